import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { UsageError } from '../domain/errors.ts';
import { canonicalJson } from './canonical-json.ts';
import { siteManifestSchema, type SiteManifest } from './site-manifest.ts';

/** A signed manifest as served: the manifest, an Ed25519 signature over its canonical JSON, and the key's id. */
export interface SignedManifest {
  manifest: SiteManifest;
  /** base64 Ed25519 signature of canonicalJson(manifest). */
  signature: string;
  /** First 16 hex digits of sha256 of the raw 32-byte public key: tells readers which pinned key to use. */
  keyId: string;
}

// DER prefixes of an Ed25519 key in PKCS#8 (private) and SPKI (public) form; the 32 raw key bytes follow.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * Reads the signing key: a PEM block, or base64 of either the 32-byte seed or the PKCS#8 DER.
 * `where` names the source (an environment variable) for the error; the key itself is never echoed.
 */
export function parsePrivateKey(text: string, where: string): KeyObject {
  const t = text.trim();
  try {
    if (t.startsWith('-----BEGIN')) return checkEd25519(createPrivateKey(t), where);
    const raw = Buffer.from(t, 'base64');
    if (raw.length === 32) return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
    return checkEd25519(createPrivateKey({ key: raw, format: 'der', type: 'pkcs8' }), where);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${where} does not hold an Ed25519 private key (expected PEM, or base64 of the 32-byte seed); run \`flotilla manifest key --generate\` to make one`);
  }
}

/** Reads a public key: base64 of the raw 32 bytes (what `flotilla manifest key` prints) or PEM. */
export function parsePublicKey(text: string): KeyObject {
  const t = text.trim();
  try {
    if (t.startsWith('-----BEGIN')) return checkEd25519(createPublicKey(t), 'the key');
    const raw = Buffer.from(t, 'base64');
    if (raw.length !== 32) throw new Error('length');
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    throw new UsageError('--key must be an Ed25519 public key: base64 of 32 bytes as printed by `flotilla manifest key`, or PEM');
  }
}

function checkEd25519(k: KeyObject, where: string): KeyObject {
  if (k.asymmetricKeyType !== 'ed25519') throw new UsageError(`${where} holds a ${k.asymmetricKeyType} key; the manifest is signed with Ed25519`);
  return k;
}

/** The raw 32-byte public key, base64: the form readers pin. */
export function publicKeyText(k: KeyObject): string {
  const pub = k.type === 'private' ? createPublicKey(k) : k;
  return pub.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length).toString('base64');
}

export function keyIdOf(k: KeyObject): string {
  return createHash('sha256').update(Buffer.from(publicKeyText(k), 'base64')).digest('hex').slice(0, 16);
}

/** A new private key as base64 of its 32-byte seed (for an environment variable). */
export function generatePrivateKeyText(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length).toString('base64');
}

export function signManifest(m: SiteManifest, key: KeyObject): SignedManifest {
  return { manifest: m, signature: sign(null, Buffer.from(canonicalJson(m)), key).toString('base64'), keyId: keyIdOf(key) };
}

export type ManifestCheck = { ok: true; manifest: SiteManifest } | { ok: false; reason: string };

/** Checks a served document against a pinned public key. Never throws: a bad document is a value. */
export function verifyManifest(doc: unknown, pub: KeyObject): ManifestCheck {
  if (typeof doc !== 'object' || doc === null) return { ok: false, reason: 'not a JSON object' };
  const d = doc as Partial<SignedManifest>;
  if (typeof d.signature !== 'string') return { ok: false, reason: 'no signature' };
  const parsed = siteManifestSchema.safeParse(d.manifest);
  if (!parsed.success) return { ok: false, reason: `not a flotilla manifest: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'manifest'}: ${i.message}`).join('; ')}` };
  if (d.keyId !== undefined && d.keyId !== keyIdOf(pub)) return { ok: false, reason: `signed with key ${String(d.keyId).slice(0, 16)}, not the pinned key ${keyIdOf(pub)}` };
  // verify what was signed (the document as served), not the schema's re-built copy
  const good = verify(null, Buffer.from(canonicalJson(d.manifest)), pub, Buffer.from(d.signature, 'base64'));
  return good ? { ok: true, manifest: parsed.data as SiteManifest } : { ok: false, reason: 'bad signature: the manifest was changed or signed with another key' };
}
