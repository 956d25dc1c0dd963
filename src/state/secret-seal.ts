import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { SecretsKeyError } from './secrets-key-error.ts';

/** The key that seals the etcd secrets area: 32 bytes from the variable `name` names; `id` is its version. */
export interface SecretsKey {
  /** The environment variable it came from (recorded in every envelope, so an error can say which to set). */
  name: string;
  /** First 8 bytes of the key's SHA-256, hex: tells keys apart without revealing them. */
  id: string;
  bytes: Buffer;
}

/** How a sealed value is stored: JSON, never the plaintext. */
interface Envelope {
  flotillaSealed: 1;
  alg: 'AES-256-GCM';
  key: string;
  kid: string;
  iv: string;
  tag: string;
  data: string;
}

/** The key in `value` (base64 of exactly 32 bytes), read from the variable `name`. Throws SecretsKeyError. */
export function secretsKeyFrom(name: string, value: string | undefined): SecretsKey {
  if (value === undefined || value.trim() === '') throw new SecretsKeyError('SECRETS_KEY_MISSING', `state.secretsKeyEnv names ${name}, which is not set: set it to the stack's secrets key (32 random bytes, base64: \`openssl rand -base64 32\`)`);
  const bytes = Buffer.from(value.trim(), 'base64');
  if (bytes.length !== 32 || bytes.toString('base64') !== value.trim()) throw new SecretsKeyError('SECRETS_KEY_WRONG', `${name} must hold 32 bytes in base64 (e.g. \`openssl rand -base64 32\`), found ${bytes.length} byte(s) or not base64`);
  return { name, id: createHash('sha256').update(bytes).digest('hex').slice(0, 16), bytes };
}

/** `plaintext` sealed with AES-256-GCM, bound to `where` (the etcd key: a value moved to another name does not open). */
export function seal(key: SecretsKey, where: string, plaintext: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key.bytes, iv);
  c.setAAD(Buffer.from(where));
  const data = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  const env: Envelope = { flotillaSealed: 1, alg: 'AES-256-GCM', key: key.name, kid: key.id, iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
  return JSON.stringify(env);
}

/** The envelope's key name and id when `stored` is sealed, else undefined (a plaintext value). */
export function sealedWith(stored: string): { key: string; kid: string } | undefined {
  if (!stored.startsWith(MARK)) return undefined;
  const e = envelope('', stored, false);
  return e ? { key: e.key, kid: e.kid } : { key: '?', kid: '?' };
}

/**
 * The plaintext of `stored` at `where`: a plaintext value as it is; a sealed one opened with `key`. Throws
 * SecretsKeyError when there is no key (MISSING) or it is not the one that sealed it or the value was altered (WRONG).
 */
export function unseal(key: SecretsKey | undefined, where: string, stored: string): string {
  if (!stored.startsWith(MARK)) return stored;
  const e = envelope(where, stored, true)!;
  if (!key) throw new SecretsKeyError('SECRETS_KEY_MISSING', `${where} is sealed with the key in ${e.key} (id ${e.kid}); set state.secretsKeyEnv in the stack and that variable to read it`);
  if (key.id !== e.kid) throw new SecretsKeyError('SECRETS_KEY_WRONG', `${where} is sealed with key id ${e.kid} (from ${e.key}), but ${key.name} holds key id ${key.id}: set the key it was sealed with`);
  try {
    const d = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(e.iv, 'base64'));
    d.setAAD(Buffer.from(where));
    d.setAuthTag(Buffer.from(e.tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(e.data, 'base64')), d.final()]).toString('utf8');
  } catch {
    throw new SecretsKeyError('SECRETS_KEY_WRONG', `${where} does not open with key id ${key.id} (altered, or moved from another name)`);
  }
}

const MARK = '{"flotillaSealed":1,';

function envelope(where: string, stored: string, strict: boolean): Envelope | undefined {
  try {
    const e = JSON.parse(stored) as Partial<Envelope>;
    if (e.alg === 'AES-256-GCM' && typeof e.key === 'string' && typeof e.kid === 'string' && typeof e.iv === 'string' && typeof e.tag === 'string' && typeof e.data === 'string') return e as Envelope;
  } catch {
    /* reported below */
  }
  // torn or edited: never taken for plaintext
  if (strict) throw new SecretsKeyError('SECRETS_KEY_WRONG', `${where} starts as a sealed value but is not a whole envelope (edited or torn)`);
  return undefined;
}
