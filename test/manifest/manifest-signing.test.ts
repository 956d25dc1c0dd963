import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from '../../src/manifest/canonical-json.ts';
import { generatePrivateKeyText, parsePrivateKey, parsePublicKey, publicKeyText, signManifest, verifyManifest } from '../../src/manifest/manifest-signing.ts';
import { nextManifest, type SiteManifest } from '../../src/manifest/site-manifest.ts';

const key = parsePrivateKey(generatePrivateKeyText(), 'FLOTILLA_MANIFEST_KEY');
const pub = parsePublicKey(publicKeyText(key));
const base: SiteManifest = { v: 1, site: 'example', sequence: 3, issuedAt: '2026-12-01T00:00:00.000Z', live: ['example.net'], lost: [{ domain: 'example.org', since: '2026-11-30T00:00:00.000Z', reason: 'delegation gone' }] };

describe('canonical JSON', () => {
  it('is independent of key order and round-trips values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const c = canonicalJson(v);
        assert.deepEqual(JSON.parse(c), JSON.parse(JSON.stringify(v)));
        // a re-parse with reversed key order gives the same bytes
        const reversed = JSON.parse(c, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).reverse()) : x));
        assert.equal(canonicalJson(reversed), c);
      }),
    );
  });
});

describe('manifest signing', () => {
  it('a signed manifest verifies with the pinned key, also after a JSON round trip with other key order', () => {
    const signed = signManifest(base, key);
    const served = JSON.parse(JSON.stringify({ keyId: signed.keyId, signature: signed.signature, manifest: Object.fromEntries(Object.entries(signed.manifest).reverse()) }));
    const r = verifyManifest(served, pub);
    assert.equal(r.ok, true, JSON.stringify(r));
  });

  it('any change to the manifest breaks the signature', () => {
    const signed = signManifest(base, key);
    for (const tamper of [{ live: ['evil.example'] }, { sequence: 4 }, { lost: [] }]) {
      const r = verifyManifest({ ...signed, manifest: { ...signed.manifest, ...tamper } }, pub);
      assert.equal(r.ok, false);
      assert.match((r as { reason: string }).reason, /bad signature/);
    }
  });

  it('another key is refused, naming both key ids', () => {
    const other = parsePrivateKey(generatePrivateKeyText(), 'X');
    const r = verifyManifest(signManifest(base, other), pub);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /not the pinned key/);
    // without a keyId the signature check alone still refuses it
    const { keyId: _k, ...noId } = signManifest(base, other);
    assert.equal(verifyManifest(noId, pub).ok, false);
  });

  it('garbage is a value, not an exception', () => {
    for (const doc of [null, 42, [], {}, { signature: 'x' }, { signature: 'x', manifest: { v: 2 } }]) assert.equal(verifyManifest(doc, pub).ok, false);
  });

  it('keys: a bad key is a usage error that never echoes the value', () => {
    assert.throws(() => parsePrivateKey('c2VjcmV0LXZhbHVlLXRoYXQtaXMtbm90LWEta2V5', 'FLOTILLA_MANIFEST_KEY'), (e: Error) => /FLOTILLA_MANIFEST_KEY/.test(e.message) && !e.message.includes('c2VjcmV0'));
    assert.throws(() => parsePublicKey('abc'), /--key/);
    // PEM works too
    const pem = key.export({ format: 'pem', type: 'pkcs8' }) as string;
    assert.equal(publicKeyText(parsePrivateKey(pem, 'X')), publicKeyText(key));
  });
});

describe('nextManifest', () => {
  it('lists live and lost domains and moves the sequence only on change', () => {
    const m1 = nextManifest(undefined, 'example', [{ domain: 'example.org' }, { domain: 'example.net' }], Date.parse('2026-12-01T00:00:00Z'));
    assert.deepEqual(m1.live, ['example.org', 'example.net']);
    assert.equal(m1.sequence, 1);
    const same = nextManifest(m1, 'example', [{ domain: 'example.org' }, { domain: 'example.net' }], Date.parse('2026-12-02T00:00:00Z'));
    assert.equal(same, m1);
    const lost = nextManifest(m1, 'example', [{ domain: 'example.org', lost: { since: Date.parse('2026-12-02T00:00:00Z'), reason: 'delegation gone at the parent' } }, { domain: 'example.net' }], Date.parse('2026-12-02T00:00:01Z'));
    assert.equal(lost.sequence, 2);
    assert.deepEqual(lost.live, ['example.net']);
    assert.deepEqual(lost.lost, [{ domain: 'example.org', since: '2026-12-02T00:00:00.000Z', reason: 'delegation gone at the parent' }]);
  });
});
