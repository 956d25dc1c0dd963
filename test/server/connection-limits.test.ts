/**
 * Hostile clients on the HTTP port: idle, slow and greedy connections from loopback (each "client" a loopback
 * address of its own) cannot take every connection; those over a cap are reset, idle ones time out, a legitimate
 * request is served, and the controller keeps probing.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { allUp, startHarness, waitFor, type Harness } from './harness.ts';

const LIMITS = { maxConnections: 24, maxPerClient: 8, headersTimeoutMs: 1000, requestTimeoutMs: 2000, idleTimeoutMs: 2000, maxEventStreams: 3, maxEventStreamsPerClient: 2 };

/** A GET from a chosen loopback source address; resolves with the status, or with the socket error's code. */
function getFrom(h: Harness, path: string, localAddress = '127.0.0.1'): Promise<{ status?: number; error?: string; body: string }> {
  return new Promise((resolve) => {
    const req = request(`${h.url}${path}`, { agent: false, localAddress, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message, body: '' }));
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.end();
  });
}

interface Idle { sock: Socket; closed: boolean; data: string }

/** A connection that sends nothing (or only `send`) and records whether the server closed it. */
function idle(h: Harness, localAddress: string, send = ''): Promise<Idle> {
  return new Promise((resolve) => {
    const c: Idle = { sock: connect({ host: '127.0.0.1', port: h.server.port, localAddress }), closed: false, data: '' };
    c.sock.on('error', () => undefined);
    c.sock.on('close', () => (c.closed = true));
    c.sock.on('data', (d) => (c.data += String(d)));
    c.sock.once('connect', () => {
      if (send) c.sock.write(send);
      resolve(c);
    });
    c.sock.once('close', () => resolve(c));
  });
}

describe('HTTP connection caps and timeouts', { timeout: 60_000 }, () => {
  let h: Harness;
  const socks: Idle[] = [];
  before(async () => {
    h = await startHarness({ server: { limits: LIMITS } });
    await allUp(h);
  });
  after(async () => {
    for (const s of socks) s.sock.destroy();
    await h?.close();
  });

  it('caps connections per client address: the greedy client is reset, another client is served at once', async () => {
    const refused0 = h.server.connections().refused;
    for (let i = 0; i < LIMITS.maxPerClient; i++) socks.push(await idle(h, '127.0.0.66'));
    const extra = await idle(h, '127.0.0.66');
    socks.push(extra);
    await waitFor('the connection over the per-client cap closed', () => extra.closed);
    assert.equal(h.server.connections().refused, refused0 + 1);
    assert.equal(extra.data, '', 'nothing was read from or written to it');
    const ok = await getFrom(h, '/api/status', '127.0.0.1');
    assert.equal(ok.status, 200, ok.error);
    for (const s of socks.splice(0)) s.sock.destroy();
    await waitFor('connections released', () => h.server.connections().open === 0);
  });

  it('caps connections in all; idle and slow clients time out and a legitimate request is served again; probing goes on', async () => {
    const probedBefore = h.controller.health.m0.lastProbeAt ?? 0;
    const refused0 = h.server.connections().refused;
    // fill every slot: idle sockets from three addresses, and slowloris ones that trickle a header byte by byte
    const slow: Idle[] = [];
    for (let i = 0; i < LIMITS.maxConnections; i++) {
      const from = `127.0.0.${70 + (i % 4)}`;
      const s = i % 4 === 3 ? await idle(h, from, 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ') : await idle(h, from);
      if (i % 4 === 3) slow.push(s);
      socks.push(s);
    }
    const drip = setInterval(() => { for (const s of slow) if (!s.closed) s.sock.write('a'); }, 100);
    try {
      assert.equal(h.server.connections().open, LIMITS.maxConnections);
      const refused = await getFrom(h, '/healthz', '127.0.0.1');
      assert.ok(refused.error, `a connection over the cap was served: ${refused.status}`);
      assert.ok(h.server.connections().refused > refused0);

      // every idle and trickling socket is closed by the server (408 or reset), none held open by the client
      await waitFor('the idle and slow connections closed by the server', () => socks.every((s) => s.closed), 10_000);
      assert.ok(slow.every((s) => /^HTTP\/1\.1 408/.test(s.data)), 'slow clients get 408 Request Timeout');
      const served = await getFrom(h, '/api/status', '127.0.0.1');
      assert.equal(served.status, 200, served.error);
      await waitFor('the controller still probing', () => (h.controller.health.m0.lastProbeAt ?? 0) > probedBefore);
    } finally {
      clearInterval(drip);
      for (const s of socks.splice(0)) s.sock.destroy();
    }
  });

  it('caps event streams in all and per client (503), and drops a stream that does not read', async () => {
    const streams: Idle[] = [];
    const open = async (from: string) => {
      const s = await idle(h, from, 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
      streams.push(s);
      await waitFor('an answer', () => /\r\n\r\n/.test(s.data) || s.closed);
      return s.data.split('\r\n')[0];
    };
    try {
      assert.equal(await open('127.0.0.1'), 'HTTP/1.1 200 OK');
      assert.equal(await open('127.0.0.1'), 'HTTP/1.1 200 OK');
      assert.equal(await open('127.0.0.1'), 'HTTP/1.1 503 Service Unavailable', 'a third stream from one client');
      assert.equal(await open('127.0.0.80'), 'HTTP/1.1 200 OK', 'another client is still welcome');
      assert.equal(await open('127.0.0.81'), 'HTTP/1.1 503 Service Unavailable', 'over the cap in all');
      assert.equal(h.server.connections().eventStreams, 3);
      for (const s of streams.splice(0)) s.sock.destroy();
      await waitFor('streams released', () => h.server.connections().eventStreams === 0);

      // a client that stops reading: its buffer fills and the server drops it (memory stays bounded)
      const stuck = await idle(h, '127.0.0.90', 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
      streams.push(stuck);
      await waitFor('stream open', () => h.server.connections().eventStreams === 1);
      stuck.sock.pause();
      const big = 'y'.repeat(64 * 1024);
      for (let i = 0; i < 400 && !stuck.closed; i++) {
        h.controller.emit('audit', { at: Date.now(), kind: 'probe', message: big });
        await new Promise((r) => setImmediate(r));
      }
      await waitFor('the stuck stream dropped', () => h.server.connections().eventStreams === 0, 10_000);
      // and the server still answers
      assert.equal((await getFrom(h, '/healthz')).status, 200);
    } finally {
      for (const s of streams) s.sock.destroy();
    }
  });
});
