import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpProbe } from '../../src/probes/http-probe.ts';
import { freePort } from '../support/ports.ts';
import { spawnMirrorProcess, startMirror, type MirrorServer } from '../support/mirror-server.ts';
import { never, targetFor, tempSite } from './helpers.ts';

describe('HttpProbe against a real mirror', () => {
  let site: Awaited<ReturnType<typeof tempSite>>;
  let mirror: MirrorServer;
  const probe = new HttpProbe();

  before(async () => {
    site = await tempSite({ '/big.bin': Buffer.alloc(3 * 1024 * 1024, 0x61) });
    mirror = await startMirror({ host: '127.0.0.2', port: 0, contentDir: site.contentDir });
  });
  after(async () => {
    await probe.close();
    await mirror.stop();
    await site.cleanup();
  });
  const t = (over = {}) => targetFor(mirror.host, mirror.port, { expectedDigest: site.files['/'], ...over });

  it('reports ok with status, digest and latency, sending the Host header to the address', async () => {
    mirror.setMode('ok');
    const r = await probe.run(t({ bodyMatch: 'Welcome' }), never);
    assert.equal(r.reason, 'ok');
    assert.equal(r.ok, true);
    assert.equal(r.mirror, 'm1');
    assert.equal(r.status, 200);
    assert.equal(r.digest, site.files['/']);
    assert.equal(r.tlsDaysLeft, undefined);
    assert.ok(r.latencyMs >= 0 && r.latencyMs < 1000, `latency ${r.latencyMs}`);
    assert.ok(Math.abs(r.at - Date.now()) < 5000);
    assert.equal(mirror.lastRequest?.host, 'example.test');
    assert.equal(mirror.lastRequest?.path, '/');
  });

  it('reports status 503 (expected 200)', async () => {
    mirror.setMode('status-503');
    const r = await probe.run(t(), never);
    mirror.setMode('ok');
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'status 503 (expected 200)');
    assert.equal(r.status, 503);
    const r2 = await probe.run(t({ expectStatus: [200, 204] }), never);
    assert.equal(r2.ok, true);
  });

  it('names every accepted status when none matched', async () => {
    const r = await probe.run(t({ path: '/missing.html', expectedDigest: undefined, expectStatus: [200, 204] }), never);
    assert.equal(r.reason, 'status 404 (expected 200 or 204)');
  });

  it('catches wrong bytes by digest although the status is 200', async () => {
    mirror.setMode('wrong-bytes');
    const r = await probe.run(t(), never);
    mirror.setMode('ok');
    assert.equal(r.ok, false);
    assert.equal(r.status, 200);
    assert.match(r.reason, /^content digest mismatch \(got [0-9a-f]{8}\.\., expected [0-9a-f]{8}\.\.\)$/);
    assert.ok(r.reason.includes(site.files['/'].slice(0, 8)));
    assert.notEqual(r.digest, site.files['/']);
  });

  it('checks the digest of the probed path, not of the index', async () => {
    const r = await probe.run(t({ path: '/about.html', expectedDigest: site.files['/about.html'] }), never);
    assert.equal(r.reason, 'ok');
    const wrong = await probe.run(t({ path: '/about.html' }), never); // expects the index digest
    assert.match(wrong.reason, /content digest mismatch/);
  });

  it('matches the body by substring and by /regex/', async () => {
    assert.equal((await probe.run(t({ bodyMatch: 'build 42' }), never)).reason, 'ok');
    assert.equal((await probe.run(t({ bodyMatch: '/build \\d+/' }), never)).reason, 'ok');
    assert.equal((await probe.run(t({ bodyMatch: '/WELCOME/i' }), never)).reason, 'ok');
    const miss = await probe.run(t({ bodyMatch: 'build 43' }), never);
    assert.equal(miss.ok, false);
    assert.equal(miss.reason, 'body does not match "build 43"');
    const missRe = await probe.run(t({ bodyMatch: '/^build/' }), never);
    assert.equal(missRe.reason, 'body does not match /^build/');
  });

  it('fails a response slower than the latency budget and passes it within', async () => {
    mirror.setMode('slow', { delayMs: 300 });
    const slow = await probe.run(t({ latencyBudgetMs: 100 }), never);
    const fine = await probe.run(t({ latencyBudgetMs: 1500 }), never);
    mirror.setMode('ok');
    assert.equal(slow.ok, false);
    assert.match(slow.reason, /^slow: \d+ms > budget 100ms$/);
    assert.ok(slow.latencyMs >= 290, `latency ${slow.latencyMs}`);
    assert.equal(fine.reason, 'ok');
  });

  it('times out a slow mirror at timeoutMs, whatever it does later', async () => {
    mirror.setMode('slow', { delayMs: 3000 });
    const t0 = performance.now();
    const r = await probe.run(t({ timeoutMs: 300 }), never);
    const wall = performance.now() - t0;
    mirror.setMode('ok');
    assert.equal(r.reason, 'timeout after 300ms');
    assert.ok(wall >= 295 && wall < 600, `took ${wall}ms`);
    assert.equal(r.status, undefined);
    // The mirror answers again once it is fast: the probe recovers (a fresh connection).
    assert.equal((await probe.run(t(), never)).reason, 'ok');
  });

  it('caps the body read: a body over the cap fails the digest check instead of filling memory', async () => {
    const r = await probe.run(t({ path: '/big.bin', expectedDigest: site.files['/big.bin'] }), never);
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'body larger than the 2 MiB read cap: digest not checked');
    assert.equal(r.digest, undefined);
    assert.equal(r.status, 200);
    // Without a digest to check, the capped prefix is enough for a body match.
    const m = await probe.run(t({ path: '/big.bin', expectedDigest: undefined, bodyMatch: 'aaaa' }), never);
    assert.equal(m.reason, 'ok');
  });

  it('reuses one keep-alive connection per mirror, renewing it after maxRequestsPerConnection', async () => {
    // A mirror of its own, so no connection of another test's probe is counted.
    const own = new HttpProbe({ maxRequestsPerConnection: 5 });
    const m = await startMirror({ host: '127.0.0.8', port: 0, contentDir: site.contentDir });
    try {
      const seen: number[] = [];
      for (let i = 0; i < 10; i++) {
        assert.equal((await own.run(targetFor(m.host, m.port), never)).ok, true);
        seen.push(m.connections);
      }
      assert.deepEqual(seen, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
      assert.equal(own.openClients, 1);
    } finally {
      await own.close();
      await m.stop();
    }
    assert.equal(own.openClients, 0);
    const closed = await own.run(t(), never);
    assert.deepEqual([closed.ok, closed.reason], [false, 'probe closed']);
  });

  it('opens a connection per probe when maxRequestsPerConnection is 1', async () => {
    const own = new HttpProbe({ maxRequestsPerConnection: 1 });
    const m = await startMirror({ host: '127.0.0.10', port: 0, contentDir: site.contentDir });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await own.run(targetFor(m.host, m.port), never)).ok, true);
      assert.equal(m.connections, 3);
    } finally {
      await own.close();
      await m.stop();
    }
  });

  it('leaves no connection open after close()', async () => {
    const own = new HttpProbe();
    const m = await startMirror({ host: '127.0.0.9', port: 0, contentDir: site.contentDir });
    try {
      for (let i = 0; i < 3; i++) await own.run(targetFor(m.host, m.port), never);
      assert.equal(m.openConnections, 1);
      await own.close();
      const deadline = Date.now() + 2000;
      while (m.openConnections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(m.openConnections, 0);
    } finally {
      await m.stop();
    }
  });

  it('bounds the number of clients (least recently used is closed)', async () => {
    const m2 = await startMirror({ host: '127.0.0.3', port: 0, contentDir: site.contentDir });
    const m3 = await startMirror({ host: '127.0.0.4', port: 0, contentDir: site.contentDir });
    const own = new HttpProbe({ maxConnections: 2 });
    try {
      for (const m of [mirror, m2, m3, mirror]) {
        assert.equal((await own.run(targetFor(m.host, m.port), never)).ok, true);
        assert.ok(own.openClients <= 2);
      }
      assert.equal(own.openClients, 2);
    } finally {
      await own.close();
      await m2.stop();
      await m3.stop();
    }
  });

  it('holds at most maxConnections sockets across 1,000 targets (a shared pool, not one keep-alive per mirror)', async () => {
    // 1,000 origins on one server (the Host is part of an origin's key); keep-alive far longer than the run, so
    // without the bound every mirror's connection would stay open.
    const bound = 16;
    const own = new HttpProbe({ maxConnections: bound, keepAliveMs: 60_000 });
    const m = await startMirror({ host: '127.0.0.11', port: 0, contentDir: site.contentDir });
    try {
      let mostOpen = 0;
      for (let i = 0; i < 1000; i++) {
        const r = await own.run(targetFor(m.host, m.port, { mirror: `m${i}`, host: `m${i}.example.test` }), never);
        assert.equal(r.reason, 'ok', `target ${i}`);
        assert.ok(own.openClients <= bound, `${own.openClients} clients after target ${i}`);
        mostOpen = Math.max(mostOpen, m.openConnections);
      }
      assert.equal(m.connections, 1000); // a fleet larger than the pool: a fresh connection per probe
      // The server sees an evicted connection's FIN a moment after the next one opened: allow that lag, no more.
      assert.ok(mostOpen <= bound + 2, `server saw ${mostOpen} connections open at once (bound ${bound})`);
      const deadline = Date.now() + 5000;
      while (m.openConnections > bound && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.ok(m.openConnections <= bound, `${m.openConnections} connections still open (bound ${bound})`);
    } finally {
      await own.close();
      await m.stop();
    }
  });

  it('reports a dropped connection as reset when hedging is off: exactly every 10th request in drop-every-10th', async () => {
    const single = new HttpProbe({ maxAttempts: 1 });
    try {
      mirror.setMode('drop-every-10th');
      const results = [];
      for (let i = 0; i < 20; i++) results.push(await single.run(t(), never));
      mirror.setMode('ok');
      const failed = results.map((r, i) => [i, r.reason] as const).filter(([, reason]) => reason !== 'ok');
      assert.deepEqual(failed, [[9, 'reset'], [19, 'reset']]);
    } finally {
      await single.close();
    }
  });

  it('answers a dropped request from a companion attempt on a fresh connection (hedged, the default)', async () => {
    mirror.setMode('drop-every-10th');
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await probe.run(t(), never));
    mirror.setMode('ok');
    assert.deepEqual(results.filter((r) => !r.ok).map((r) => r.reason), []);
    // each dropped request cost one companion (which the mirror counts too, so the second drop comes one probe early)
    assert.deepEqual(results.map((r, i) => [i, r.attempts]).filter(([, a]) => a !== undefined), [[9, 2], [18, 2]]);
  });

  it('returns aborted at once when the caller aborts', async () => {
    mirror.setMode('slow', { delayMs: 2000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const r = await probe.run(t({ timeoutMs: 1800 }), ac.signal);
    mirror.setMode('ok');
    assert.equal(r.reason, 'aborted');
    assert.ok(r.latencyMs < 1000, `latency ${r.latencyMs}`);
    const pre = new AbortController();
    pre.abort();
    assert.equal((await probe.run(t(), pre.signal)).reason, 'aborted');
  });

  it('shares one caller signal among many concurrent probes without a listener-leak warning, and aborts them all', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const shared = new AbortController();
      const oks = await Promise.all(Array.from({ length: 40 }, () => probe.run(t(), shared.signal)));
      assert.ok(oks.every((r) => r.ok));
      mirror.setMode('slow', { delayMs: 2000 });
      const pending = Array.from({ length: 40 }, (_, i) => probe.run(t({ mirror: `m${i}`, timeoutMs: 1800 }), shared.signal));
      setTimeout(() => shared.abort(), 100);
      const aborted = await Promise.all(pending);
      mirror.setMode('ok');
      assert.deepEqual([...new Set(aborted.map((r) => r.reason))], ['aborted']);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings.filter((w) => w === 'MaxListenersExceededWarning'), []);
    } finally {
      process.off('warning', onWarning);
      mirror.setMode('ok');
    }
  });

  it('never resolves a name: a target whose address is not an IP fails without connecting', async () => {
    const before = mirror.requests;
    const r = await probe.run(t({ address: 'localhost' }), never);
    assert.equal(r.ok, false);
    assert.match(r.reason, /is not an IP/);
    assert.equal((await probe.run(t({ address: '' }), never)).reason, 'no address known');
    assert.equal(mirror.requests, before);
  });
});

describe('HttpProbe against dead and hung mirrors', () => {
  let site: Awaited<ReturnType<typeof tempSite>>;
  const probe = new HttpProbe();
  before(async () => {
    site = await tempSite();
  });
  after(async () => {
    await probe.close();
    await site.cleanup();
  });

  it('reports a closed port as refused at once', async () => {
    const port = await freePort('127.0.0.5');
    const r = await probe.run(targetFor('127.0.0.5', port, { timeoutMs: 5000 }), never);
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'refused');
    assert.ok(r.latencyMs < 1000, `latency ${r.latencyMs}`);
    assert.equal(r.attempts, undefined, 'refused is certain: no companion attempt');
  });

  it('reports a mirror process under SIGSTOP as a timeout within timeoutMs + 300 ms, then SIGCONT and SIGKILL', async () => {
    const child = spawnMirrorProcess({ host: '127.0.0.6', port: 0, contentDir: site.contentDir });
    try {
      const { port } = await child.ready;
      const target = targetFor('127.0.0.6', port, { timeoutMs: 500, expectedDigest: site.files['/'] });
      assert.equal((await probe.run(target, never)).reason, 'ok');

      assert.equal(child.kill('SIGSTOP'), true);
      // Twice: once on the kept-alive connection, once on a fresh connection the kernel accepts for the stopped process.
      for (let i = 0; i < 2; i++) {
        const t0 = performance.now();
        const hung = await probe.run(target, never);
        const wall = performance.now() - t0;
        assert.equal(hung.ok, false);
        assert.equal(hung.reason, 'timeout after 500ms');
        assert.ok(wall >= 495 && wall <= 800, `took ${wall}ms`);
        assert.ok(hung.latencyMs <= 800);
      }

      assert.equal(child.kill('SIGCONT'), true);
      assert.equal((await probe.run({ ...target, timeoutMs: 2000 }, never)).reason, 'ok');

      assert.equal(child.kill('SIGKILL'), true);
      const { signal } = await child.exited;
      assert.equal(signal, 'SIGKILL');
      const dead = await probe.run(target, never);
      assert.ok(['refused', 'reset'].includes(dead.reason), dead.reason);
      const again = await probe.run(target, never);
      assert.equal(again.reason, 'refused');
    } finally {
      await child.stop();
    }
  });

  it('covers the body too: a response that stalls mid-body times out at timeoutMs', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': 1000 });
      res.write('<h1>Welcome'); // ...and never the rest
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.7', ok));
    const port = (server.address() as AddressInfo).port;
    try {
      const t0 = performance.now();
      const r = await probe.run(targetFor('127.0.0.7', port, { timeoutMs: 300 }), never);
      const wall = performance.now() - t0;
      assert.equal(r.reason, 'timeout after 300ms');
      assert.ok(wall >= 295 && wall < 600, `took ${wall}ms`);
    } finally {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    }
  });

  it('stops reading an endless body at the cap, long before the timeout', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.7', ok));
    const port = (server.address() as AddressInfo).port;
    const own = new HttpProbe({ maxBodyBytes: 512 * 1024 });
    try {
      const r = await own.run(targetFor('127.0.0.7', port, { timeoutMs: 10_000, expectedDigest: 'ff'.repeat(32) }), never);
      assert.equal(r.reason, 'body larger than the 512 KiB read cap: digest not checked');
      assert.ok(r.latencyMs < 3000, `latency ${r.latencyMs}`);
    } finally {
      await own.close();
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    }
  });
});
