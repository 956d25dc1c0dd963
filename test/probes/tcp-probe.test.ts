import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpProbe } from '../../src/probes/http-probe.ts';
import { TcpProbe } from '../../src/probes/tcp-probe.ts';
import { freePort } from '../support/ports.ts';
import { spawnMirrorProcess, startMirror, type MirrorServer } from '../support/mirror-server.ts';
import { never, targetFor, tempSite } from './helpers.ts';

describe('TcpProbe', () => {
  let site: Awaited<ReturnType<typeof tempSite>>;
  let mirror: MirrorServer;
  const probe = new TcpProbe();
  before(async () => {
    site = await tempSite();
    mirror = await startMirror({ host: '127.0.0.21', port: 0, contentDir: site.contentDir });
  });
  after(async () => {
    await mirror.stop();
    await site.cleanup();
  });

  /** Linux: a LISTEN socket's accept queue is full when its length (rx_queue) exceeds its backlog (tx_queue). */
  function acceptQueueFull(host: string, port: number): boolean {
    const local = `${host.split('.').reverse().map((o) => Number(o).toString(16).padStart(2, '0')).join('')}:${port.toString(16).padStart(4, '0')}`.toUpperCase();
    for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1] !== local || f[3] !== '0A') continue;
      const [tx, rx] = f[4].split(':').map((h) => parseInt(h, 16));
      return rx > tx;
    }
    return false;
  }

  async function waitUntil(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
    for (const end = Date.now() + timeoutMs; !cond(); await new Promise((res) => setTimeout(res, 10))) {
      if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    }
  }

  it('is ok when the port accepts, and keeps no socket open', async () => {
    const r = await probe.run(targetFor(mirror.host, mirror.port), never);
    assert.equal(r.ok, true);
    assert.equal(r.reason, 'ok');
    assert.equal(r.mirror, 'm1');
    assert.equal(r.status, undefined);
    assert.ok(r.latencyMs < 1000);
    assert.equal(mirror.connections, 1);
    const deadline = Date.now() + 2000;
    while (mirror.openConnections > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    assert.equal(mirror.openConnections, 0);
  });

  it('reports a closed port as refused at once', async () => {
    const port = await freePort('127.0.0.22');
    const r = await probe.run(targetFor('127.0.0.22', port, { timeoutMs: 5000 }), never);
    assert.deepEqual([r.ok, r.reason], [false, 'refused']);
    assert.ok(r.latencyMs < 1000, `latency ${r.latencyMs}`);
  });

  it('turns bad targets and aborts into values, never exceptions', async () => {
    assert.match((await probe.run(targetFor('example.test', 80), never)).reason, /is not an IP/);
    assert.equal((await probe.run(targetFor('', 80), never)).reason, 'no address known');
    const bad = await probe.run(targetFor('127.0.0.1', 70000), never);
    assert.equal(bad.ok, false);
    assert.match(bad.reason, /^error: /);
    const ac = new AbortController();
    ac.abort();
    assert.equal((await probe.run(targetFor(mirror.host, mirror.port), ac.signal)).reason, 'aborted');
  });

  it('times out when a stopped mirror no longer completes connections (its accept queue is full)', async () => {
    const child = spawnMirrorProcess({ host: '127.0.0.23', port: 0, contentDir: site.contentDir, backlog: 1 });
    const fillers: Socket[] = [];
    const http = new HttpProbe();
    try {
      const { port } = await child.ready;
      const target = targetFor('127.0.0.23', port, { timeoutMs: 400 });
      assert.equal((await probe.run(target, never)).reason, 'ok');
      child.kill('SIGSTOP');
      // A stopped process's listen socket still completes handshakes: TCP says ok while HTTP times out.
      assert.equal((await probe.run(target, never)).reason, 'ok');
      assert.equal((await http.run(target, never)).reason, 'timeout after 400ms');
      // Fill the accept queue; then the kernel drops new SYNs and a connect hangs.
      for (let i = 0; i < 8; i++) {
        const s = connect({ host: '127.0.0.23', port });
        s.on('error', () => undefined);
        fillers.push(s);
      }
      // the condition itself, as the kernel reports it (no guess of how long that takes)
      await waitUntil('the accept queue is full', () => acceptQueueFull('127.0.0.23', port));
      const t0 = performance.now();
      const r = await probe.run(target, never);
      const wall = performance.now() - t0;
      assert.deepEqual([r.ok, r.reason], [false, 'timeout after 400ms']);
      // the probe waited for its timeout (a lower bound no load can break) and not for ever
      assert.ok(wall >= 395 && wall < 5000, `took ${wall}ms`);
    } finally {
      for (const s of fillers) s.destroy();
      await http.close();
      await child.stop();
    }
  });
});
