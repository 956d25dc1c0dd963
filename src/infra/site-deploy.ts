import { basename } from 'node:path';
import { ConfigError } from '../domain/errors.ts';
import type { DeployFile } from '../manifest/manifest-files.ts';
import { nginxSiteConfig, shortHash, shQuote, WEB_BASE, type WebServerSetup } from './web-server-setup.ts';

/**
 * The deploy step every mirror gets, whatever hosts it (aws, hcloud, ssh): `@pulumi/command`'s CopyToRemote puts the
 * site directory on the host over SFTP, then a remote Command installs it as a versioned release and switches the
 * `current` symlink in one rename. Pure text builders here; the resources are in site-deploy-step.ts.
 *
 * Lifecycle, as pulumi-command runs it (provider/pkg/provider/remote/commandController.go, copyController.go):
 * - a content change changes the Command's `create` text and the copy's source and remotePath: both are UPDATED in
 *   place (Update re-runs `create` when there is no `update`); no delete runs, the old release is pruned later;
 * - a new published manifest (the extra `files`) is a content change too: it makes a new release id, so the copy and
 *   the command are updated and the new release carries the new `/.well-known/flotilla.json` (an update, not a
 *   replacement through `triggers`: no delete runs, the previous release stays for a quick way back);
 * - a change of anything else in the script (server names) is an update too: the script re-runs and finds its
 *   release complete;
 * - `triggers` (the host's id) replace both: the new host is deployed first, then the OLD resource's `delete` runs
 *   with the OLD connection. With a stable address that connection reaches the NEW host: delete therefore acts only
 *   on the host it deployed (recorded in `deploy-host`) and never removes the live release.
 */

/** Where things live on a host. Debian's nginx layout by default; tests point it at their own directories. */
export interface SiteLayout {
  webBase: string;
  etcDir: string;
  sitesAvailable: string;
  sitesEnabled: string;
  /** Shell command checking the nginx configuration. */
  nginxTest: string;
  /** Shell command reloading nginx. */
  reload: string;
  /** The site's `listen` lines (default port 80 on both families, never `default_server`). */
  listen?: string[];
}

export const DEBIAN_LAYOUT: SiteLayout = {
  webBase: WEB_BASE,
  etcDir: '/etc/flotilla',
  sitesAvailable: '/etc/nginx/sites-available',
  sitesEnabled: '/etc/nginx/sites-enabled',
  nginxTest: 'nginx -t -q',
  // systemd hosts reload; hosts without systemd (containers, old boxes) fall back to the init script
  reload: '(systemctl reload-or-restart nginx || service nginx reload || service nginx restart)',
};

/**
 * Where CopyToRemote puts a local directory (copyController.go, sftpCopy): a source WITHOUT a trailing slash lands
 * one level deeper, in `remotePath/<its base name>`; with a trailing slash its contents land in `remotePath` itself.
 */
export function copiedDir(source: string, remotePath: string): string {
  return source.endsWith('/') ? remotePath : `${remotePath.replace(/\/+$/, '')}/${basename(source)}`;
}

export interface SiteDeployArgs {
  stack: string;
  mirror: string;
  /** The site directory on this machine (FleetSpec.site.contentDir). */
  contentDir: string;
  site: WebServerSetup;
  layout?: SiteLayout;
  /**
   * Files installed into every release next to the site's content (the published manifest: manifestDeployFiles).
   * They are part of the release: new files make a new release, so the copy and the install command are updated.
   */
  files?: readonly DeployFile[];
  /** What the files are, for the script's first line (`manifest sequence 7`): a preview's diff shows it. */
  filesNote?: string;
}

/** Most bytes of extra files: they travel inside the install script, one exec argument (Linux: 128 KiB). */
export const MAX_DEPLOY_FILES_BYTES = 64 * 1024;

/** Everything the deploy step needs, as plain data. The host id is filled in by the script functions. */
export function siteDeployPlan(args: SiteDeployArgs) {
  const layout = args.layout ?? DEBIAN_LAYOUT;
  const files = checkedFiles(args.files ?? [], args.mirror);
  // one release per content: the digest names it (with extra files, the digest and the files together)
  const releaseId = files.length === 0 ? args.site.digest.slice(0, 16) : shortHash(JSON.stringify([args.site.digest, files.map((f) => [f.path, f.content])]), 16);
  // no trailing slash (so the files land in <remotePath>/<base name>, see copiedDir); relative to the login's home,
  // which only that user can write (a path in /tmp could be pre-created by anyone on the box)
  const source = args.contentDir.replace(/\/+$/, '');
  const remotePath = `.flotilla-upload/${args.stack}-${args.mirror}-${releaseId}`;
  return {
    releaseId,
    source,
    remotePath,
    /** Where the files are after the copy, relative to the login's home. */
    uploaded: copiedDir(source, remotePath),
    layout,
    site: args.site,
    files,
    filesNote: files.length === 0 ? undefined : (args.filesNote ?? files.map((f) => f.path).join(', ')),
  };
}

/** Relative paths inside the web root only, and a size the install script can carry. */
function checkedFiles(files: readonly DeployFile[], mirror: string): DeployFile[] {
  const issues: { path: string; message: string }[] = [];
  let bytes = 0;
  for (const f of files) {
    bytes += Buffer.byteLength(f.content, 'utf8');
    if (f.path === '' || f.path.startsWith('/') || f.path.split('/').some((part) => part === '' || part === '.' || part === '..') || !/^[A-Za-z0-9._/-]+$/.test(f.path))
      issues.push({ path: `mirror ${mirror}: file ${JSON.stringify(f.path)}`, message: 'expected a relative path inside the web root (letters, digits, . _ - /; no empty, . or .. part)' });
  }
  if (bytes > MAX_DEPLOY_FILES_BYTES) issues.push({ path: `mirror ${mirror}: files to deploy`, message: `${bytes} bytes, over the ${MAX_DEPLOY_FILES_BYTES} bytes the install script carries` });
  if (issues.length > 0) throw new ConfigError('(deploy files)', issues);
  return [...files];
}

export type SiteDeployPlan = ReturnType<typeof siteDeployPlan>;

/** Runs `root` as root (as root or with passwordless sudo; `sudo -n` fails at once instead of asking), with "$@". */
function asRoot(comment: string, root: string, args: string[]): string {
  return [
    `# ${comment}`,
    'set -eu',
    'if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo -n"; fi',
    `$SUDO sh -c ${shQuote(root)} flotilla ${args.join(' ')}`,
    '',
  ].join('\n');
}

/**
 * The Command's create (and update) script: waits for cloud-init, installs nginx when missing, builds the release
 * from the upload (once: a complete release is kept), switches `current` atomically, writes the nginx site for the
 * site's names only, reloads nginx, records host, release and digest, removes the upload and old releases (keeps the
 * previous one for a quick way back).
 */
export function deployScript(plan: SiteDeployPlan, hostId: string): string {
  const L = plan.layout;
  const base = shQuote(L.webBase);
  const rel = `${base}/releases/${plan.releaseId}`;
  const conf = nginxSiteConfig({ serverNames: plan.site.serverNames, digest: plan.site.digest, root: `${L.webBase}/current`, listen: L.listen });
  const root = [
    'set -eu',
    'up="$1"; upload_root="$2"',
    // cloud hosts: nginx comes from cloud-init, which may still be running when SSH first answers
    'if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null 2>&1 || true; fi',
    'if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then',
    '  apt-get update -q',
    '  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx',
    'fi',
    `mkdir -p ${base}/releases ${shQuote(L.etcDir)} ${shQuote(L.sitesAvailable)} ${shQuote(L.sitesEnabled)}`,
    `if [ ! -f ${rel}.complete ]; then`,
    '  if [ ! -d "$up" ]; then echo "flotilla: the upload $up is missing and release ' + plan.releaseId + ' was never completed: run pulumi up again" >&2; exit 1; fi',
    `  rm -rf ${rel}.partial ${rel}`,
    `  mkdir -p ${rel}.partial`,
    `  cp -R "$up"/. ${rel}.partial/`,
    // the extra files (the published manifest), over whatever the site holds at the same path
    ...plan.files.flatMap((f) => [
      `  mkdir -p ${rel}.partial/${shQuote(f.path.split('/').slice(0, -1).join('/') || '.')}`,
      `  base64 -d > ${rel}.partial/${shQuote(f.path)} <<'FLOTILLA_FILE_EOF'`,
      ...(Buffer.from(f.content, 'utf8').toString('base64').match(/.{1,76}/g) ?? []),
      'FLOTILLA_FILE_EOF',
    ]),
    `  chmod -R a+rX ${rel}.partial`,
    `  mv ${rel}.partial ${rel}`,
    `  : > ${rel}.complete`,
    'fi',
    // the nginx site: installed, then checked; a configuration nginx refuses is taken back at once, so the box's
    // next reload (by anyone) still works, and the live site is not switched
    `site=${shQuote(`${L.sitesAvailable}/flotilla`)}; link=${shQuote(`${L.sitesEnabled}/flotilla`)}`,
    'cat > "$site.next" <<\'FLOTILLA_NGINX_EOF\'',
    conf.trimEnd(),
    'FLOTILLA_NGINX_EOF',
    'if [ -f "$site" ]; then cp -p "$site" "$site.prev"; had_site=1; else had_site=0; fi',
    'mv "$site.next" "$site"',
    'ln -sfn "$site" "$link"',
    `if ! ${L.nginxTest}; then`,
    '  if [ "$had_site" = 1 ]; then mv "$site.prev" "$site"; else rm -f "$site" "$link"; fi',
    '  echo "flotilla: nginx refused the new site configuration; the previous one is back in place" >&2',
    '  exit 1',
    'fi',
    'rm -f "$site.prev"',
    `previous=$(readlink ${base}/current 2>/dev/null || true)`,
    // the switch: a new symlink renamed over the old one (rename(2) is atomic; nginx never sees no site)
    `ln -sfn releases/${plan.releaseId} ${base}/current.next`,
    `mv -T ${base}/current.next ${base}/current`,
    L.reload,
    `printf '%s\\n' ${shQuote(hostId)} > ${shQuote(`${L.etcDir}/deploy-host`)}`,
    `printf '%s\\n' ${shQuote(plan.site.digest)} > ${shQuote(`${L.etcDir}/site-digest`)}`,
    'rm -rf "$upload_root"',
    // keep the live release and the one before it; drop the rest
    `for d in ${base}/releases/*; do`,
    '  n=${d##*/}; n=${n%.complete}; n=${n%.partial}',
    `  [ "releases/$n" = "releases/${plan.releaseId}" ] && continue`,
    '  [ "releases/$n" = "$previous" ] && continue',
    '  rm -rf "$d"',
    'done',
  ].join('\n');
  const withFiles = plan.filesNote ? ` with ${plan.filesNote}` : '';
  return asRoot(`flotilla: deploy site ${plan.site.siteName} release ${plan.releaseId} (digest ${plan.site.digest})${withFiles} to ${hostId}`, root, [
    `"$HOME"/${shQuote(plan.uploaded)}`,
    `"$HOME"/${shQuote(plan.remotePath)}`,
  ]);
}

/**
 * The Command's delete script. On another host than the one it deployed (a replacement reached through the same
 * stable address): nothing. On its own host: the live release is left alone unless it is this one; when it is (the
 * mirror leaves the stack), the site is taken out of nginx — nginx, its default site and anything else stay.
 */
export function removeScript(plan: SiteDeployPlan, hostId: string): string {
  const L = plan.layout;
  const base = shQuote(L.webBase);
  const root = [
    'set -eu',
    `host=$(cat ${shQuote(`${L.etcDir}/deploy-host`)} 2>/dev/null || true)`,
    `if [ "$host" != ${shQuote(hostId)} ]; then echo "flotilla: ${plan.releaseId}: this address now answers for $host; nothing of ours to remove"; exit 0; fi`,
    `live=$(readlink ${base}/current 2>/dev/null || true)`,
    `if [ "$live" != releases/${plan.releaseId} ]; then rm -rf ${base}/releases/${plan.releaseId} ${base}/releases/${plan.releaseId}.complete; exit 0; fi`,
    `rm -f ${shQuote(`${L.sitesEnabled}/flotilla`)} ${shQuote(`${L.sitesAvailable}/flotilla`)}`,
    `(${L.nginxTest} && ${L.reload}) || true`,
    `rm -rf ${base} ${shQuote(`${L.etcDir}/deploy-host`)} ${shQuote(`${L.etcDir}/site-digest`)}`,
  ].join('\n');
  return asRoot(`flotilla: remove release ${plan.releaseId} of site ${plan.site.siteName} from ${hostId}`, root, []);
}
