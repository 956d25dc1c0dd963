import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { ConfigError } from '../domain/errors.ts';

/**
 * How a mirror becomes a web server. A cloud host's user data carries only the web server and SSH access
 * (cloudInitUserData); the site's files reach every host kind the same way, one deploy step over SSH
 * (site-deploy.ts). Pure text builders; no I/O, no Pulumi.
 */
/** Where the site lives on a host: releases/<id> per deployed content, `current` the symlink nginx serves. */
export const WEB_BASE = '/var/www/flotilla';
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
}

/**
 * nginx server block for the site's names only. It never claims `default_server` and flotilla never removes the
 * default site: the box may serve other things, and requests for other names keep going where they went.
 */
export function nginxSiteConfig(opts: { serverNames: string[]; digest: string; root?: string; listen?: string[] }): string {
  const root = opts.root ?? `${WEB_BASE}/current`;
  const listen = opts.listen ?? ['80', '[::]:80'];
  if (opts.serverNames.length === 0) throw new Error('nginxSiteConfig: no server names (a catch-all would take over the box)');
  return [
    '# written by flotilla; replaced on every deploy',
    'server {',
    ...listen.map((l) => `    listen ${l};`),
    `    server_name ${opts.serverNames.join(' ')};`,
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

/**
 * cloud-init user data (`#cloud-config`) of a cloud host: nginx from the archive, and the deploy key's public half
 * for the image's default user. No site content: its size never meets the provider's user-data limit, and a new
 * site never replaces the host. Deterministic for the same key.
 */
export function cloudInitUserData(opts: { sshPublicKey: string; stack: string; mirror: string }): string {
  const doc = { package_update: true, packages: ['nginx'], ssh_authorized_keys: [opts.sshPublicKey] };
  return `#cloud-config\n# flotilla ${opts.stack} ${opts.mirror}: web server and SSH only; the site comes over SSH\n${stringify(doc, { lineWidth: 0 })}`;
}

/** Throws a ConfigError when user data is larger than the provider accepts. */
export function checkUserDataSize(userData: string, provider: keyof typeof USER_DATA_LIMITS, mirror: string): void {
  const size = Buffer.byteLength(userData, 'utf8');
  const limit = USER_DATA_LIMITS[provider];
  if (size > limit) {
    throw new ConfigError('(stack)', [{ path: `mirror ${mirror}`, message: `the user data is ${size} bytes, over the ${provider} limit of ${limit} bytes` }]);
  }
}

/** POSIX single-quote a string for sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Short, stable fingerprint (for resource names and release ids). */
export function shortHash(text: string, length = 12): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}
