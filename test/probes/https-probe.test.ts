import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpProbe } from '../../src/probes/http-probe.ts';
import { makeSelfSignedCert, startMirror, type MirrorServer } from '../support/mirror-server.ts';
import { never, targetFor, tempSite } from './helpers.ts';

describe('HttpProbe over TLS (self-signed certificates made with openssl)', () => {
  let site: Awaited<ReturnType<typeof tempSite>>;
  let longCert: Awaited<ReturnType<typeof makeSelfSignedCert>>;
  let good: MirrorServer;
  let expiring: MirrorServer;
  const probe = new HttpProbe();

  before(async () => {
    site = await tempSite();
    longCert = await makeSelfSignedCert({ dir: site.dir, commonName: 'example.test', days: 30 });
    const shortCert = await makeSelfSignedCert({ dir: site.dir, commonName: 'example.test', days: 3 });
    good = await startMirror({ host: '127.0.0.11', port: 0, contentDir: site.contentDir, tls: longCert });
    expiring = await startMirror({ host: '127.0.0.12', port: 0, contentDir: site.contentDir, tls: shortCert });
  });
  after(async () => {
    await probe.close();
    await good?.stop();
    await expiring?.stop();
    await site.cleanup();
  });
  const t = (m: MirrorServer, over = {}) =>
    targetFor(m.host, m.port, { scheme: 'https', expectedDigest: site.files['/'], bodyMatch: 'Welcome', ...over });

  it('probes by IP with SNI and Host = the site name, and reports the days of certificate left', async () => {
    const r = await probe.run(t(good), never);
    assert.equal(r.reason, 'ok');
    assert.equal(r.status, 200);
    assert.equal(r.digest, site.files['/']);
    assert.ok(r.tlsDaysLeft === 29 || r.tlsDaysLeft === 30, `tlsDaysLeft ${r.tlsDaysLeft}`);
    assert.equal(good.lastRequest?.servername, 'example.test');
    assert.equal(good.lastRequest?.host, 'example.test');
  });

  it('fails a 3-day certificate against tlsMinDays 7 and passes it against tlsMinDays 1', async () => {
    const strict = await probe.run(t(expiring, { tlsMinDays: 7 }), never);
    assert.equal(strict.ok, false);
    assert.match(strict.reason, /^TLS certificate expires in [23] days \(minimum 7\)$/);
    assert.ok(strict.tlsDaysLeft === 2 || strict.tlsDaysLeft === 3, `tlsDaysLeft ${strict.tlsDaysLeft}`);
    assert.equal(strict.status, 200); // the content was fine: only the certificate fails

    const lenient = await probe.run(t(expiring, { tlsMinDays: 1 }), never);
    assert.equal(lenient.reason, 'ok');
    assert.equal(lenient.tlsDaysLeft, strict.tlsDaysLeft);
  });

  it('reads the certificate with an injected clock: 40 days on, the 30-day certificate has expired', async () => {
    const later = new HttpProbe({ now: () => Date.now() + 40 * 86_400_000 });
    try {
      const r = await later.run(t(good, { tlsMinDays: 0 }), never);
      assert.equal(r.ok, false);
      assert.match(r.reason, /^TLS certificate expired (9|10) days ago$/);
      assert.ok(r.tlsDaysLeft! < 0);
    } finally {
      await later.close();
    }
  });

  it('sends another SNI for another host on the same address', async () => {
    const r = await probe.run(t(good, { host: 'www.example.test' }), never);
    assert.equal(r.reason, 'ok'); // the chain and name are not verified by default
    assert.equal(good.lastRequest?.servername, 'www.example.test');
    assert.equal(good.lastRequest?.host, 'www.example.test');
  });

  it('verifies the chain and name only when asked', async () => {
    const strict = new HttpProbe({ verifyChain: true });
    const trusting = new HttpProbe({ verifyChain: true, ca: longCert.certPem });
    try {
      const untrusted = await strict.run(t(good), never);
      assert.equal(untrusted.ok, false);
      assert.equal(untrusted.reason, 'TLS handshake failed (DEPTH_ZERO_SELF_SIGNED_CERT)');
      assert.equal((await trusting.run(t(good), never)).reason, 'ok');
      const wrongName = await trusting.run(t(good, { host: 'other.test' }), never);
      assert.equal(wrongName.reason, 'TLS handshake failed (ERR_TLS_CERT_ALTNAME_INVALID)');
    } finally {
      await strict.close();
      await trusting.close();
    }
  });

  it('reports plain HTTP spoken to a TLS port as a failure value', async () => {
    const r = await probe.run(targetFor(good.host, good.port, { timeoutMs: 1000 }), never);
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'reset'); // the TLS server hangs up on bytes that are not a handshake
  });
});
