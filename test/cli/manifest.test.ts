import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parsePrivateKey, signManifest } from '../../src/manifest/manifest-signing.ts';
import { MANIFEST_PATH, nextManifest } from '../../src/manifest/site-manifest.ts';
import { runCli } from '../support/run-cli.ts';

describe('flotilla manifest key / verify', () => {
  let server: Server;
  let base = '';
  const served: Record<string, string> = {};
  before(async () => {
    server = createServer((req, res) => {
      const body = served[req.url ?? ''];
      if (body === undefined) return res.writeHead(404).end();
      res.setHeader('content-type', 'application/json');
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('generate → pin → verify a served manifest; a tampered one fails with exit 1', async () => {
    const gen = await runCli(['manifest', 'key', '--generate', '--json']);
    assert.equal(gen.code, 0, gen.stderr);
    const { privateKey, publicKey } = JSON.parse(gen.stdout) as { privateKey: string; publicKey: string };
    const again = await runCli(['manifest', 'key'], { env: { FLOTILLA_MANIFEST_KEY: privateKey } });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`public key \\(pin this\\): ${publicKey.replace(/[+/]/g, '\\$&')}`));
    assert.ok(!again.stdout.includes(privateKey), 'the private key is printed only when generated');

    const m = nextManifest(undefined, 'example', [{ domain: 'example.org', lost: { since: Date.parse('2026-12-01T00:00:00Z'), reason: 'delegation gone at the parent' } }, { domain: 'example.net' }], Date.now());
    const signed = signManifest(m, parsePrivateKey(privateKey, 'FLOTILLA_MANIFEST_KEY'));
    served[MANIFEST_PATH] = JSON.stringify(signed);
    served['/tampered.json'] = JSON.stringify({ ...signed, manifest: { ...signed.manifest, live: ['evil.example'] } });

    const ok = await runCli(['manifest', 'verify', `${base}${MANIFEST_PATH}`, '--key', publicKey]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /signature good .*sequence 1/);
    assert.match(ok.stdout, /live: example\.net/);
    assert.match(ok.stdout, /lost: example\.org since 2026-12-01/);

    const bad = await runCli(['manifest', 'verify', `${base}/tampered.json`, '--key', publicKey]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /NOT trusted: bad signature/);
    const missing = await runCli(['manifest', 'verify', `${base}/none.json`, '--key', publicKey]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /HTTP 404/);
  });

  it('user mistakes: exit 2, a clear message, no stack trace, no secret echoed', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['manifest', 'key'], { FLOTILLA_MANIFEST_KEY: '' }, /FLOTILLA_MANIFEST_KEY is not set/],
      [['manifest', 'key'], { FLOTILLA_MANIFEST_KEY: 'bm90LWEta2V5LWF0LWFsbA==' }, /does not hold an Ed25519 private key/],
      [['manifest', 'key', '--key-env', 'bm90LWEta2V5'], {}, /--key-env must name an environment variable/],
      [['manifest', 'verify', `${base}/x`, '--key', 'short'], {}, /--key must be an Ed25519 public key/],
      [['manifest', 'verify', 'not a url', '--key', 'x'], {}, /not a URL/],
    ];
    for (const [args, env, msg] of cases) {
      const r = await runCli(args, { env });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.ok(!r.stderr.includes('bm90LWEta2V5LWF0LWFsbA'), 'the bad key is not echoed');
    }
  });
});
