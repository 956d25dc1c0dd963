import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { StatusSnapshot } from '../../src/server/status-snapshot.ts';
import { allUp, auth, post, startHarness, waitFor, type Harness } from './harness.ts';

interface Sse { event: string; data: unknown; at: number }

/** A real SSE client over node:http that records every message. */
function listen(url: string): Promise<{ events: Sse[]; res: IncomingMessage; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      const events: Sse[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) events.push({ event, data: JSON.parse(data.join('\n')), at: Date.now() });
        }
      });
      resolve({ events, res, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

describe('/events (server-sent events)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await allUp(h);
  });
  after(() => h?.close());

  it('sends a status at once, then pushes a flip without being asked', async () => {
    const s = await listen(`${h.url}/events`);
    try {
      assert.match(s.res.headers['content-type'] ?? '', /^text\/event-stream/);
      const first = await waitFor('first status', () => s.events.find((e) => e.event === 'status'));
      assert.deepEqual((first.data as StatusSnapshot).mirrors.map((m) => m.state), ['up', 'up', 'up']);
      h.probe.fail('m1', 'timeout after 200ms');
      const t0 = Date.now();
      const down = await waitFor('a status with m1 down', () =>
        s.events.find((e) => e.event === 'status' && (e.data as StatusSnapshot).mirrors.find((m) => m.name === 'm1')?.state === 'down'),
      );
      const snap = down.data as StatusSnapshot;
      assert.equal(snap.mirrors.find((m) => m.name === 'm1')?.lastReason, 'timeout after 200ms');
      assert.deepEqual(snap.serving, ['m0', 'm2']);
      assert.ok(down.at - t0 < 2000, `pushed ${down.at - t0}ms after the failure began (fall 3 × 250ms)`);
      // other flips (a mirror's first sighting) may still be in flight; the one we caused must arrive
      const flip = await waitFor('the flip audit event', () => s.events.find((e) => e.event === 'audit' && (e.data as { kind: string; message: string }).kind === 'flip' && /m1/.test((e.data as { message: string }).message)));
      assert.match((flip.data as { message: string }).message, /m1 is down/);
    } finally {
      s.close();
      h.probe.heal('m1');
    }
    await waitFor('m1 up again', () => h.controller.health.m1?.state === 'up');
  });

  it('throttles probe-driven pushes to about four a second', async () => {
    const s = await listen(`${h.url}/events`);
    try {
      await waitFor('first status', () => s.events.length > 0);
      // no wall-clock window: wait for 13 status pushes and read the server's own send times (`now`), which load
      // can only spread apart. Three mirrors probed every 250 ms are 12 probes/s: unthrottled, 12 pushes take about
      // a second; throttled to one per 250 ms they take 3 s, less the few pushed at once for a decision or audit.
      const statuses = () => s.events.filter((e) => e.event === 'status').map((e) => (e.data as StatusSnapshot).now);
      const start = statuses().length;
      const times = (await waitFor('13 status pushes', () => statuses().length >= start + 13 && statuses(), 20_000)).slice(start, start + 13);
      const spanMs = times[12] - times[0];
      assert.ok(spanMs >= 1500, `12 status pushes within ${spanMs}ms: more than 8 a second, the throttle is not holding`);
    } finally {
      s.close();
    }
  });

  it('an override made through the API reaches every listener', async () => {
    const a = await listen(`${h.url}/events`);
    const b = await listen(`${h.url}/events`);
    try {
      assert.equal((await post(h, '/api/drain', { mirror: 'm2', reason: 'sse' }, auth(h))).status, 200);
      for (const s of [a, b]) {
        await waitFor('status showing the drain', () =>
          s.events.find((e) => e.event === 'status' && (e.data as StatusSnapshot).overrides.some((o) => o.mirror === 'm2' && o.reason === 'sse')),
        );
      }
    } finally {
      a.close();
      b.close();
      await post(h, '/api/undrain', { mirror: 'm2' }, auth(h));
    }
  });

  it('a reason with line breaks and escape codes cannot forge an event: it arrives as one audit event, verbatim', async () => {
    const raw: string[] = [];
    const s = await listen(`${h.url}/events`);
    s.res.on('data', (c: string) => raw.push(c));
    const reason = 'x\r\n\r\nevent: status\ndata: {"stack":"forged"}\n\n\u001b[2J\u2028\u0085 done';
    try {
      assert.equal((await post(h, '/api/drain', { mirror: 'm2', reason }, auth(h))).status, 200);
      const audit = await waitFor('the audit event', () => s.events.find((e) => e.event === 'audit' && String((e.data as { message: string }).message).includes('forged')));
      assert.ok(String((audit.data as { message: string }).message).endsWith(reason));
      assert.ok(!s.events.some((e) => e.event === 'status' && (e.data as StatusSnapshot).stack === 'forged'), 'a forged status event');
      const text = raw.join('');
      assert.doesNotMatch(text, /[\r\u001b\u2028\u0085]/, 'raw control characters on the stream');
      for (const block of text.split('\n\n').filter(Boolean)) assert.match(block, /^(retry: \d+|event: (status|audit)\ndata: [^\n]*)$/, block.slice(0, 80));
    } finally {
      s.close();
      await post(h, '/api/undrain', { mirror: 'm2' }, auth(h));
    }
  });
});
