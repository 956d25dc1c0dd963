import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { seal, sealedWith, secretsKeyFrom, unseal } from '../../src/state/secret-seal.ts';

const k1 = secretsKeyFrom('FLOTILLA_SECRETS_KEY', randomBytes(32).toString('base64'));
const k2 = secretsKeyFrom('FLOTILLA_SECRETS_KEY', randomBytes(32).toString('base64'));
const WHERE = '/flotilla/p/secrets/site.key';
const PEM = '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n';

describe('sealing the etcd secrets area (AES-256-GCM)', () => {
  it('seals: the stored text holds neither the plaintext nor the key, records the key name and id, and opens again', () => {
    const s = seal(k1, WHERE, PEM);
    assert.ok(!s.includes('PRIVATE KEY') && !s.includes(k1.bytes.toString('base64')));
    assert.deepEqual(sealedWith(s), { key: 'FLOTILLA_SECRETS_KEY', kid: k1.id });
    assert.equal(unseal(k1, WHERE, s), PEM);
    assert.notEqual(seal(k1, WHERE, PEM), s, 'a fresh IV every time');
  });

  it('plaintext passes through (written before a key was set) and is reported as not sealed', () => {
    assert.equal(sealedWith(PEM), undefined);
    assert.equal(unseal(k1, WHERE, PEM), PEM);
    assert.equal(unseal(undefined, WHERE, PEM), PEM);
  });

  it('no key, another key, an altered value, a value moved to another name: typed errors, never the plaintext', () => {
    const s = seal(k1, WHERE, PEM);
    assert.throws(() => unseal(undefined, WHERE, s), (e: Error & { code?: string }) => e.code === 'SECRETS_KEY_MISSING' && /sealed with the key in FLOTILLA_SECRETS_KEY/.test(e.message));
    assert.throws(() => unseal(k2, WHERE, s), (e: Error & { code?: string }) => e.code === 'SECRETS_KEY_WRONG' && e.message.includes(k1.id) && e.message.includes(k2.id));
    const env = JSON.parse(s);
    env.data = Buffer.from('x' + Buffer.from(env.data, 'base64').toString('latin1'), 'latin1').toString('base64');
    assert.throws(() => unseal(k1, WHERE, JSON.stringify(env)), (e: Error & { code?: string }) => e.code === 'SECRETS_KEY_WRONG' && /does not open/.test(e.message));
    assert.throws(() => unseal(k1, '/flotilla/p/secrets/acme-account.key', s), (e: Error & { code?: string }) => e.code === 'SECRETS_KEY_WRONG');
    assert.throws(() => unseal(k1, WHERE, s.slice(0, 40)), (e: Error & { code?: string }) => e.code === 'SECRETS_KEY_WRONG' && /not a whole envelope/.test(e.message));
  });

  it('the key: unset, empty, not 32 bytes or not base64 is a clear error naming the variable', () => {
    assert.throws(() => secretsKeyFrom('K', undefined), (e: Error & { code?: string; exitCode?: number }) => e.code === 'SECRETS_KEY_MISSING' && e.exitCode === 2 && /K, which is not set/.test(e.message));
    assert.throws(() => secretsKeyFrom('K', ''), /not set/);
    assert.throws(() => secretsKeyFrom('K', randomBytes(16).toString('base64')), (e: Error & { code?: string }) => e.code === 'SECRETS_KEY_WRONG' && /K must hold 32 bytes/.test(e.message));
    assert.throws(() => secretsKeyFrom('K', 'not base64 at all, not at all, not at all!!'), /32 bytes/);
    assert.equal(k1.id.length, 16);
    assert.notEqual(k1.id, k2.id);
  });
});
