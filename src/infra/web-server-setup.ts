import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { ConfigError } from '../domain/errors.ts';

/**
 * How a mirror becomes a web server: nginx serving the site's files from WEB_ROOT, identical bytes on every host.
 * Pure text builders (cloud-init for cloud hosts, a shell script for SSH boxes); no I/O, no Pulumi.
 */
export const WEB_ROOT = '/var/www/flotilla';
/** Where the deployed digest is recorded on the host (outside the web root, so it is not served). */
export const DIGEST_FILE = '/etc/flotilla/site-digest';
export const NGINX_SITE = '/etc/nginx/sites-available/flotilla';
/** Response header carrying the digest, so a probe or a human can tell which content a mirror serves. */
export const DIGEST_HEADER = 'X-Flotilla-Digest';

/** Provider limits on user data (bytes, before any base64 the API applies). */
export const USER_DATA_LIMITS = { aws: 16 * 1024, hcloud: 32 * 1024 } as const;

export interface SiteFile {
  /** URL path, e.g. `/index.html`. */
  path: string;
  content: Buffer;
}

export interface WebServerSetup {
  siteName: string;
  /** sha256 of the whole site (FleetSpec.site.digest). */
  digest: string;
  /** Names nginx answers for (the domain and its alternates). */
  serverNames: string[];
  files: SiteFile[];
}

/** nginx server block: serves WEB_ROOT on port 80 for every name, and tells the digest in a header. */
export function nginxSiteConfig(opts: { serverNames: string[]; digest: string; root?: string; listen?: string[] }): string {
  const root = opts.root ?? WEB_ROOT;
  const listen = opts.listen ?? ['80 default_server', '[::]:80 default_server'];
  return [
    '# written by flotilla; replaced on every deploy',
    'server {',
    ...listen.map((l) => `    listen ${l};`),
    `    server_name ${opts.serverNames.length > 0 ? opts.serverNames.join(' ') : '_'};`,
    `    root ${root};`,
    '    index index.html;',
    `    add_header ${DIGEST_HEADER} "${opts.digest}" always;`,
    '    location / {',
    '        try_files $uri $uri/ =404;',
    '    }',
    '}',
    '',
  ].join('\n');
}

/** Shell lines (run as root) that enable our site in place of Debian's default one and (re)start nginx. */
function enableSiteCommands(configSource: string): string[] {
  return [
    `install -m 0644 ${configSource} ${NGINX_SITE}`,
    `ln -sfn ${NGINX_SITE} /etc/nginx/sites-enabled/flotilla`,
    'rm -f /etc/nginx/sites-enabled/default',
    'nginx -t',
    // systemd hosts reload; hosts without systemd (containers, old boxes) fall back to the init script
    '(systemctl enable nginx >/dev/null 2>&1 || true)',
    '(systemctl reload-or-restart nginx || service nginx reload || service nginx restart)',
  ];
}

/** Keeps a site path inside WEB_ROOT: refuses `..` and absolute tricks. */
function webPath(urlPath: string): string {
  const parts = urlPath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.some((p) => p === '..')) throw new Error(`unsafe site path ${JSON.stringify(urlPath)}`);
  return `${WEB_ROOT}/${parts.join('/')}`;
}

/**
 * cloud-init user data (`#cloud-config`): installs nginx, writes every site file (gzip+base64, so more fits in the
 * provider's user-data limit), writes the nginx site and the digest, then enables the site. Deterministic: the same
 * site gives the same bytes, so an unchanged site never replaces a host.
 */
export function cloudInitUserData(setup: WebServerSetup): string {
  const files = [...setup.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const doc = {
    package_update: true,
    packages: ['nginx'],
    write_files: [
      ...files.map((f) => ({
        path: webPath(f.path),
        encoding: 'gz+b64',
        content: gzipSync(f.content, { level: 9 }).toString('base64'),
        permissions: '0644',
      })),
      // the site config waits outside /etc/nginx until nginx is installed, so the package's postinst never sees it
      { path: '/etc/flotilla/nginx-site.conf', content: nginxSiteConfig({ serverNames: setup.serverNames, digest: setup.digest }), permissions: '0644' },
      { path: DIGEST_FILE, content: `${setup.digest}\n`, permissions: '0644' },
    ],
    runcmd: [['sh', '-c', ['set -e', ...enableSiteCommands('/etc/flotilla/nginx-site.conf')].join('\n')]],
  };
  return `#cloud-config\n# flotilla site ${setup.siteName} digest ${setup.digest}\n${stringify(doc, { lineWidth: 0 })}`;
}

/** Throws a ConfigError when user data is larger than the provider accepts (the site is too big for this host kind). */
export function checkUserDataSize(userData: string, provider: keyof typeof USER_DATA_LIMITS, mirror: string): void {
  const size = Buffer.byteLength(userData, 'utf8');
  const limit = USER_DATA_LIMITS[provider];
  if (size > limit) {
    throw new ConfigError('(site)', [
      {
        path: 'flotilla:fleet.site.contentDir',
        message: `the site makes ${size} bytes of user data for mirror ${mirror}, over the ${provider} limit of ${limit} bytes; serve a smaller site or use an ssh mirror`,
      },
    ]);
  }
}

/** POSIX single-quote a string for sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Script run over SSH after the site directory was copied to `stagingDir`: installs nginx when missing, swaps the
 * new content into WEB_ROOT in one rename, writes the nginx site and the digest, reloads nginx, removes the staging
 * copy. Works as root or as a user with passwordless sudo.
 */
export function sshInstallScript(setup: Omit<WebServerSetup, 'files'> & { stagingDir: string }): string {
  // one root shell for the whole script: `sudo -n` fails at once instead of waiting for a password
  return [
    `# flotilla: deploy site ${setup.siteName} digest ${setup.digest}`,
    `if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo -n"; fi`,
    `$SUDO sh -c ${shQuote(sshRootScript(setup))}`,
    '',
  ].join('\n');
}

/** The part of sshInstallScript that runs as root. */
export function sshRootScript(setup: Omit<WebServerSetup, 'files'> & { stagingDir: string }): string {
  const conf = nginxSiteConfig({ serverNames: setup.serverNames, digest: setup.digest });
  const stage = shQuote(setup.stagingDir);
  return [
    'set -eu',
    'if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then',
    '  apt-get update -q',
    '  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx',
    'fi',
    `rm -rf ${WEB_ROOT}.new ${WEB_ROOT}.old`,
    `mkdir -p ${WEB_ROOT}.new /etc/flotilla`,
    `cp -R ${stage}/. ${WEB_ROOT}.new/`,
    `chmod -R a+rX ${WEB_ROOT}.new`,
    `if [ -d ${WEB_ROOT} ]; then mv ${WEB_ROOT} ${WEB_ROOT}.old; fi`,
    `mv ${WEB_ROOT}.new ${WEB_ROOT}`,
    `rm -rf ${WEB_ROOT}.old ${stage}`,
    "cat > /etc/flotilla/nginx-site.conf <<'FLOTILLA_NGINX_EOF'",
    conf.trimEnd(),
    'FLOTILLA_NGINX_EOF',
    `printf '%s\\n' ${shQuote(setup.digest)} > ${DIGEST_FILE}`,
    ...enableSiteCommands('/etc/flotilla/nginx-site.conf'),
  ].join('\n');
}

/** Short, stable fingerprint (for resource names and staging paths). */
export function shortHash(text: string, length = 12): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}
