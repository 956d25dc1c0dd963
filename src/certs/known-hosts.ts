import { createHash } from 'node:crypto';

/**
 * OpenSSH known_hosts text as flotilla keeps it (plain host names, never hashed): one line per key,
 * `HOST type base64 [comment]`, HOST being `addr` for port 22 and `[addr]:port` otherwise. Pure functions only.
 */

export interface HostKey {
  /** The key type (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`...). */
  type: string;
  /** The public key blob, base64. */
  key: string;
}

/** The host field ssh writes and looks up for `host:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The fingerprint ssh prints (`ssh-keygen -l`): SHA256 of the key blob, base64 without padding. */
export function fingerprint(k: Pick<HostKey, 'key'>): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(k.key, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

interface Line {
  hosts: string[];
  key?: HostKey;
  text: string;
}

function parse(text: string): Line[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const f = l.trim().split(/\s+/);
      // comments, markers (@revoked, @cert-authority) and hashed names are kept as they are, never matched
      if (f[0].startsWith('#') || f[0].startsWith('@') || f[0].startsWith('|') || f.length < 3) return { hosts: [], text: l };
      return { hosts: f[0].split(','), key: { type: f[1], key: f[2] }, text: l };
    });
}

/** The keys known for `host:port`, in file order. */
export function keysFor(text: string, host: string, port: number): HostKey[] {
  const name = knownHostsName(host, port);
  return parse(text).flatMap((l) => (l.key && l.hosts.includes(name) ? [l.key] : []));
}

/** `text` with every line for `host:port` replaced by `keys` (one line each, `comment` after the key). */
export function withKeys(text: string, host: string, port: number, keys: readonly HostKey[], comment = ''): string {
  const name = knownHostsName(host, port);
  const kept = parse(text).filter((l) => !l.hosts.includes(name)).map((l) => l.text);
  const added = keys.map((k) => `${name} ${k.type} ${k.key}${comment ? ` ${comment.replace(/\s+/g, '_')}` : ''}`);
  return [...kept, ...added].map((l) => `${l}\n`).join('');
}

/**
 * What ssh's stderr says about a host key it refused: whether it did, and the fingerprint the host presented when
 * ssh printed it ("The fingerprint for the ED25519 key sent by the remote host is\nSHA256:…").
 */
export function hostKeyRefusal(stderr: string): { refused: boolean; presented?: string } {
  const refused = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/.test(stderr);
  const m = /sent by the remote host is\s+(SHA256:[A-Za-z0-9+/]+)/.exec(stderr);
  return { refused, presented: m?.[1] };
}
