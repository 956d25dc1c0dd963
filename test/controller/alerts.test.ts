import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAlerts, type RunningAlerts } from '../../src/controller/alerts.ts';
import { Controller } from '../../src/controller/controller.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

interface Received { headers: IncomingMessage['headers']; raw: Buffer; at: number }

/** A real webhook receiver on loopback; `respond` decides each answer (by request number, from 1). */
async function receiver(respond: (n: number, res: ServerResponse) => void = (_n, res) => res.end('ok')) {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, raw: Buffer.concat(chunks), at: Date.now() });
      respond(got.length, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/secret-path`;
  return {
    url,
    got,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function verifySignature(secret: string, raw: Buffer, header: string | undefined): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const want = createHmac('sha256', secret).update(raw).digest();
  const got = Buffer.from(header.slice(7), 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** An injected scheduler: records each wait between attempts and returns at once (no wall time in the test). */
function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => { waits.push(ms); } };
}

async function until(what: string, fn: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('webhook alerts', () => {
  let dir: string;
  let controller: Controller;
  const running: RunningAlerts[] = [];
  const start = (o: Omit<Parameters<typeof startAlerts>[0], 'controller'>) => {
    const a = startAlerts({ controller, ...o });
    running.push(a);
    return a;
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-alerts-'));
    // a real controller, not started: its audit() emits 'audit' exactly as the running loop does
    controller = new Controller({ spec: fleetFixture({ stack: 'prod' }), store: new FileStateStore(dir), drivers: [], query: async () => ({ ok: true, values: [] }) });
  });
  after(async () => {
    for (const a of running) await a.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs the JSON body with HMAC-SHA256 over the raw bytes', async () => {
    const r = await receiver();
    try {
      const alerts = start({ webhooks: [{ url: r.url, kind: 'json', secret: 's3cret' }] });
      await controller.audit({ kind: 'flip', message: 'm1 is down: refused', data: { mirror: 'm1', state: 'down' } });
      await until('one delivery', () => r.got.length === 1);
      const [d] = r.got;
      assert.ok(verifySignature('s3cret', d.raw, d.headers['x-flotilla-signature'] as string), 'signature verifies with the secret');
      assert.ok(!verifySignature('other', d.raw, d.headers['x-flotilla-signature'] as string), 'and not with another secret');
      assert.equal(d.headers['content-type'], 'application/json');
      assert.equal(d.headers['x-flotilla-event'], 'flip');
      const body = JSON.parse(d.raw.toString('utf8'));
      assert.equal(body.source, 'flotilla');
      assert.equal(body.stack, 'prod');
      assert.equal(body.kind, 'flip');
      assert.equal(body.severity, 'warning');
      assert.equal(body.message, 'm1 is down: refused');
      assert.deepEqual(body.data, { mirror: 'm1', state: 'down' });
      assert.equal(body.id, d.headers['x-flotilla-delivery']);
      await alerts.flush();
      assert.deepEqual(alerts.stats(), { sent: 1, failed: 0, dropped: 0, retries: 0, queued: 0 });
    } finally {
      await r.close();
    }
  });

  it('retries a receiver that fails twice (500) and delivers on the third attempt, same body and signature', async () => {
    const r = await receiver((n, res) => {
      res.statusCode = n <= 2 ? 500 : 204;
      res.end();
    });
    try {
      const clock = recordingSleep();
      const alerts = start({ webhooks: [{ url: r.url, kind: 'json', secret: 'k' }], baseDelayMs: 50, sleep: clock.sleep, random: () => 0.5 });
      await controller.audit({ kind: 'fail-open', message: 'every mirror looks down' });
      assert.equal(await alerts.flush(5000), true);
      assert.equal(r.got.length, 3);
      assert.deepEqual(alerts.stats(), { sent: 1, failed: 0, dropped: 0, retries: 2, queued: 0 });
      assert.equal(new Set(r.got.map((g) => g.raw.toString())).size, 1, 'the same body every attempt');
      for (const g of r.got) assert.ok(verifySignature('k', g.raw, g.headers['x-flotilla-signature'] as string), 'every attempt is signed');
      // exponential backoff, at the middle of the jitter range
      assert.deepEqual(clock.waits, [50, 100]);
    } finally {
      await r.close();
    }
  });

  it('backs off exponentially with ±20% jitter, never waiting more than maxDelayMs', async () => {
    const r = await receiver((_n, res) => { res.statusCode = 503; res.end(); });
    try {
      const schedule = async (random: () => number) => {
        const clock = recordingSleep();
        const alerts = start({ webhooks: [{ url: r.url, kind: 'json' }], attempts: 6, baseDelayMs: 1000, maxDelayMs: 5000, sleep: clock.sleep, random });
        await controller.audit({ kind: 'flip', message: 'm1 is down' });
        assert.equal(await alerts.flush(5000), true);
        await alerts.stop();
        return clock.waits;
      };
      assert.deepEqual(await schedule(() => 0.5), [1000, 2000, 4000, 5000, 5000]);
      assert.deepEqual(await schedule(() => 0), [800, 1600, 3200, 4000, 4000]);
      assert.deepEqual((await schedule(() => 0.999)).map(Math.round), [1200, 2399, 4798, 5000, 5000]);
    } finally {
      await r.close();
    }
  });

  it('gives up after the bounded attempts, and does not retry a 4xx', async () => {
    const down = await receiver((_n, res) => { res.statusCode = 503; res.end(); });
    const refuses = await receiver((_n, res) => { res.statusCode = 400; res.end(); });
    try {
      const lines: string[] = [];
      const alerts = start({ webhooks: [{ url: down.url, kind: 'json' }, { url: refuses.url, kind: 'json', name: 'refuser' }], attempts: 3, baseDelayMs: 10, log: (l) => lines.push(l), sleep: recordingSleep().sleep });
      await controller.audit({ kind: 'apply-error', message: 'cloudflare (zone example.test): rate limited', data: { provider: 'cf' } });
      assert.equal(await alerts.flush(5000), true);
      assert.equal(down.got.length, 3);
      assert.equal(refuses.got.length, 1);
      assert.equal(alerts.stats().failed, 2);
      assert.ok(lines.some((l) => /refuser.*status 400 \(not retried\)/.test(l)), lines.join('\n'));
      assert.ok(lines.every((l) => !l.includes('secret-path')), 'webhook URLs (which may hold a secret) are never logged');
    } finally {
      await down.close();
      await refuses.close();
    }
  });

  it('honours Retry-After on 429', async () => {
    const r = await receiver((n, res) => {
      res.statusCode = n === 1 ? 429 : 200;
      if (n === 1) res.setHeader('retry-after', '1');
      res.end();
    });
    try {
      const clock = recordingSleep();
      const alerts = start({ webhooks: [{ url: r.url, kind: 'json' }], baseDelayMs: 10, sleep: clock.sleep, random: () => 0.5 });
      await controller.audit({ kind: 'override', message: 'drained m1', actor: 'ana' });
      assert.equal(await alerts.flush(5000), true);
      assert.equal(r.got.length, 2);
      assert.deepEqual(clock.waits, [1000], 'waited what Retry-After asked, not the 10 ms backoff');
    } finally {
      await r.close();
    }
  });

  it('posts Slack-compatible { text } with <, >, & escaped', async () => {
    const r = await receiver();
    try {
      const alerts = start({ webhooks: [{ url: r.url, kind: 'slack' }] });
      await controller.audit({ kind: 'fail-static', message: 'every canary failed <!channel> & <http://evil|click>' });
      await alerts.flush();
      const body = JSON.parse(r.got[0].raw.toString());
      assert.deepEqual(Object.keys(body), ['text']);
      assert.match(body.text, /\[flotilla prod\] fail-static/);
      assert.ok(body.text.includes('&lt;!channel&gt; &amp; &lt;http://evil|click&gt;'), body.text);
      assert.equal(r.got[0].headers['x-flotilla-signature'], undefined, 'no secret, no signature');
    } finally {
      await r.close();
    }
  });

  it('alerts only on flips, fail-open, fail-static, apply errors and overrides', async () => {
    const r = await receiver();
    try {
      const alerts = start({ webhooks: [{ url: r.url, kind: 'json' }] });
      for (const kind of ['decision', 'apply', 'verify', 'daemon', 'flip', 'fail-open', 'fail-static', 'apply-error', 'override', 'override-expired']) {
        await controller.audit({ kind, message: kind });
      }
      await alerts.flush();
      assert.deepEqual(r.got.map((g) => JSON.parse(g.raw.toString()).kind), ['flip', 'fail-open', 'fail-static', 'apply-error', 'override', 'override-expired']);
    } finally {
      await r.close();
    }
  });

  it('never blocks the control loop: a hung receiver fills a bounded queue, the excess is dropped and counted', async () => {
    const hung = await receiver(() => { /* never answers */ });
    try {
      const alerts = start({ webhooks: [{ url: hung.url, kind: 'json' }], maxQueue: 5, timeoutMs: 60_000 });
      for (let i = 0; i < 50; i++) controller.emit('audit', { at: Date.now(), kind: 'flip', message: `flip ${i}` });
      // read before anything is awaited: the listener only queued (the control loop never waited on the network)
      const s = alerts.stats();
      assert.equal(s.queued, 5);
      assert.equal(s.dropped, 44, 'one in flight, five queued, the rest dropped');
      await until('the first delivery reaches the hung receiver', () => hung.got.length === 1);
      // the delivery in flight would hold a waiting stop() for its 60 s timeout
      const stopped = await Promise.race([alerts.stop().then(() => 'stopped'), sleep(10_000, 'still waiting')]);
      assert.equal(stopped, 'stopped', 'stop does not wait for the hung receiver');
      assert.equal(alerts.stats().queued, 0);
    } finally {
      await hung.close();
    }
  });
});
