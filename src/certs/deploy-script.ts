import { randomBytes } from 'node:crypto';

/**
 * The script that installs a certificate on a mirror (pure text, run by `sh -s` over SSH or locally, so the key
 * travels on stdin and never in an argument list):
 * write key, chain and nginx config to a staging directory (umask 077) → keep copies of what is there → move the new
 * files in (one rename each) → `nginx -t` → reload. When the test or the reload fails every file is put back as it
 * was (and nginx reloaded on the old files), so a mirror is never left with a configuration nginx refuses.
 * Exit 0 deployed, 3 refused by `nginx -t` (rolled back), 4 reload failed (rolled back).
 */
export interface DeployScriptOptions {
  /** Directory for site.crt and site.key (made 0700). */
  dir: string;
  /** The nginx config file of the TLS site (e.g. /etc/nginx/conf.d/flotilla-tls.conf). */
  nginxConf: string;
  /** The nginx command (`nginx`, or `nginx -p PREFIX -c FILE`). */
  nginx: string;
  cert: string;
  key: string;
  config: string;
}

export function deployScript(o: DeployScriptOptions): string {
  const mark = `FLOTILLA_${randomBytes(8).toString('hex')}`;
  for (const [what, text] of [['certificate', o.cert], ['key', o.key], ['config', o.config]] as const) {
    if (text.includes(mark)) throw new Error(`the ${what} contains the here-document marker`);
  }
  const doc = (path: string, text: string) => [`cat > ${path} <<'${mark}'`, text.endsWith('\n') ? text.slice(0, -1) : text, mark];
  return [
    'set -eu',
    'umask 077',
    `dir='${o.dir}'`,
    `conf='${o.nginxConf}'`,
    `NGINX='${o.nginx}'`,
    'mkdir -p "$dir" "$(dirname "$conf")"',
    'chmod 700 "$dir"',
    'stage=$(mktemp -d "$dir/.stage.XXXXXX")',
    'trap \'rm -rf "$stage"\' EXIT',
    ...doc('"$stage/site.crt"', o.cert),
    ...doc('"$stage/site.key"', o.key),
    ...doc('"$stage/tls.conf"', o.config),
    'chmod 600 "$stage/site.crt" "$stage/site.key"',
    'chmod 644 "$stage/tls.conf"',
    'for f in site.crt site.key; do if [ -e "$dir/$f" ]; then cp -p "$dir/$f" "$stage/$f.old"; fi; done',
    'if [ -e "$conf" ]; then cp -p "$conf" "$stage/conf.old"; fi',
    'restore() {',
    '  for f in site.crt site.key; do if [ -e "$stage/$f.old" ]; then mv -f "$stage/$f.old" "$dir/$f"; else rm -f "$dir/$f"; fi; done',
    '  if [ -e "$stage/conf.old" ]; then mv -f "$stage/conf.old" "$conf"; else rm -f "$conf"; fi',
    '}',
    'mv -f "$stage/site.key" "$dir/site.key"',
    'mv -f "$stage/site.crt" "$dir/site.crt"',
    // the config is renamed into place from its own directory: one atomic step on one file system
    'cp "$stage/tls.conf" "$conf.flotilla-new"',
    'mv -f "$conf.flotilla-new" "$conf"',
    'if ! out=$($NGINX -t 2>&1); then restore; echo "nginx -t refused the new configuration; rolled back: $out" >&2; exit 3; fi',
    'if ! out=$($NGINX -s reload 2>&1); then restore; $NGINX -s reload >/dev/null 2>&1 || true; echo "nginx reload failed; rolled back: $out" >&2; exit 4; fi',
    'echo deployed',
    '',
  ].join('\n');
}
