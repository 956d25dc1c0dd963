import { createPublicKey } from 'node:crypto';
import { ConfigError } from '../domain/errors.ts';

/**
 * The public half, in OpenSSH's `authorized_keys` form, of a private key given as text: OpenSSH's own format
 * (`ssh-keygen`'s default, whose public key is stored in clear even when the private part is encrypted) or PEM
 * (PKCS#8 / PKCS#1 / SEC1, as `openssl genpkey` writes). Ed25519, RSA and ECDSA P-256/384/521. Pure (node:crypto).
 * Throws a plain Error saying what was expected; the caller names the variable it came from.
 */
export function openSshPublicKey(privateKey: string, comment = ''): string {
  const text = privateKey.trim();
  const tail = comment ? ` ${comment}` : '';
  const openssh = /^-----BEGIN OPENSSH PRIVATE KEY-----\s+([\s\S]+?)\s+-----END OPENSSH PRIVATE KEY-----$/.exec(text);
  if (openssh) {
    const buf = Buffer.from(openssh[1].replace(/\s+/g, ''), 'base64');
    const magic = 'openssh-key-v1\0';
    if (buf.subarray(0, magic.length).toString('latin1') !== magic) throw new Error('not an OpenSSH private key (no openssh-key-v1 header)');
    const r = reader(buf, magic.length);
    r.string(); // cipher
    r.string(); // kdf
    r.string(); // kdf options
    if (r.uint32() < 1) throw new Error('the OpenSSH key file holds no key');
    const blob = r.string();
    const type = reader(blob, 0).string().toString('latin1');
    return `${type} ${blob.toString('base64')}${tail}`;
  }
  let jwk: Record<string, string | undefined>;
  try {
    jwk = createPublicKey(text).export({ format: 'jwk' }) as Record<string, string | undefined>;
  } catch (e) {
    throw new Error(`expected a private key in OpenSSH or PEM form (${(e as Error).message})`);
  }
  const b = (s: string | undefined) => Buffer.from(s ?? '', 'base64url');
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return `ssh-ed25519 ${blobOf([str('ssh-ed25519'), str(b(jwk.x))])}${tail}`;
  if (jwk.kty === 'RSA') return `ssh-rsa ${blobOf([str('ssh-rsa'), mpint(b(jwk.e)), mpint(b(jwk.n))])}${tail}`;
  if (jwk.kty === 'EC') {
    const curve = { 'P-256': 'nistp256', 'P-384': 'nistp384', 'P-521': 'nistp521' }[jwk.crv ?? ''];
    if (!curve) throw new Error(`unsupported EC curve ${jwk.crv}`);
    const type = `ecdsa-sha2-${curve}`;
    return `${type} ${blobOf([str(type), str(curve), str(Buffer.concat([Buffer.from([4]), b(jwk.x), b(jwk.y)]))])}${tail}`;
  }
  throw new Error(`unsupported key type ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''} (use ed25519, rsa or ecdsa)`);
}

/** The deploy key of a stack (`deploy.sshKeyEnv`): its public half, or a ConfigError naming the variable. */
export function deployPublicKey(envName: string, value: string | undefined, comment: string): string {
  if (!value) throw new ConfigError('(environment)', [{ path: envName, message: `environment variable ${envName} is not set (the deploy key: cloud hosts get the site over SSH with it)` }]);
  try {
    return openSshPublicKey(value, comment);
  } catch (e) {
    throw new ConfigError('(environment)', [{ path: envName, message: `${(e as Error).message}; generate one with: ssh-keygen -t ed25519 -N '' -f deploy-key` }]);
  }
}

function reader(buf: Buffer, start: number) {
  let at = start;
  const need = (n: number) => {
    if (at + n > buf.length) throw new Error('truncated OpenSSH key');
  };
  return {
    uint32() {
      need(4);
      const v = buf.readUInt32BE(at);
      at += 4;
      return v;
    },
    string() {
      const n = this.uint32();
      need(n);
      const v = buf.subarray(at, at + n);
      at += n;
      return v;
    },
  };
}

function str(v: string | Buffer): Buffer {
  const data = typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

/** SSH mpint: big-endian, a leading zero byte when the top bit is set. */
function mpint(v: Buffer): Buffer {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  const t = v.subarray(i);
  return str(t[0] & 0x80 ? Buffer.concat([Buffer.from([0]), t]) : t);
}

const blobOf = (parts: Buffer[]) => Buffer.concat(parts).toString('base64');
