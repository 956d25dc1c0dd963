/**
 * Status requests never read the audit log: a 50k-line log, a spy on the store, and many unauthenticated
 * GET / and /api/status requests. Recent events come from memory, bounded; /api/history pages the rest.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../../src/domain/audit.ts';
import { RecentAudit } from '../../src/server/recent-audit.ts';
import { startHarness, type Harness } from './harness.ts';

const LINES = 50_000;

describe('recent audit events from memory', () => {
  let h: Harness;
  const reads: (number | undefined)[] = [];
  const t0 = Date.now() - 12 * 3600_000;

  before(async () => {
    h = await startHarness({
      server: { recentAuditCapacity: 200 },
      prepare(store, dir) {
        const lines: string[] = [];
        for (let i = 0; i < LINES; i++) lines.push(JSON.stringify({ at: t0 + i * 500, kind: 'apply', message: `old event ${i} ${'x'.repeat(80)}` }));
        writeFileSync(join(dir, 'audit.log'), lines.join('\n') + '\n');
        const audit = store.audit.bind(store);
        store.audit = (since?: number) => {
          reads.push(since);
          return audit(since);
        };
        const page = store.auditPage.bind(store);
        store.auditPage = (q) => {
          reads.push(q.since);
          return page(q);
        };
      },
    });
  });
  after(() => h?.close());

  it('GET / and /api/status do not read the log: one read at start, none per request', async () => {
    const atStart = reads.length;
    assert.equal(atStart, 1, `the server reads the log once at start (got ${atStart} reads)`);
    for (let i = 0; i < 20; i++) {
      const [page, api] = await Promise.all([fetch(`${h.url}/`), fetch(`${h.url}/api/status`)]);
      assert.equal(page.status, 200);
      const s = (await api.json()) as { audit: AuditEvent[] };
      await page.text();
      assert.equal(s.audit.length, 50);
      assert.ok(s.audit.some((e) => e.kind === 'daemon'), 'the newest events are there (the controller start)');
      assert.match(s.audit[0].message, /old event 4\d{4}/, 'older events from the log fill the rest');
    }
    assert.equal(reads.length, atStart, 'a status request read the audit log');
  });

  it('/api/history serves recent pages from memory and pages older ones from the store, at most 1000 at a time', async () => {
    const n = reads.length;
    const recent = (await (await fetch(`${h.url}/api/history?since=${Date.now() - 60_000}`)).json()) as { events: AuditEvent[]; truncated: boolean };
    assert.ok(recent.events.some((e) => e.kind === 'daemon'));
    assert.equal(reads.length, n, 'a page memory holds was read from the log');

    const all = (await (await fetch(`${h.url}/api/history?since=0`)).json()) as { events: AuditEvent[]; truncated: boolean };
    assert.equal(reads.length, n + 1);
    assert.equal(all.events.length, 1000);
    assert.equal(all.truncated, true);
    const page = (await (await fetch(`${h.url}/api/history?since=0&limit=5000`)).json()) as { events: AuditEvent[]; next?: string };
    assert.equal(page.events.length, 1000, 'limit is capped');
    // the cursor pages back: the next page is older, and does not repeat an event
    const older = (await (await fetch(`${h.url}/api/history?since=0&before=${encodeURIComponent(page.next!)}`)).json()) as { events: AuditEvent[] };
    assert.equal(older.events.length, 1000);
    assert.ok(older.events.at(-1)!.at <= page.events[0].at, 'the next page holds older events');
    assert.ok(!older.events.some((e) => page.events.some((p) => p.message === e.message)), 'no event on two pages');
  });

  it('memory stays bounded however many events arrive', async () => {
    const r = new RecentAudit({ controller: h.controller, capacity: 100 });
    await r.ready;
    const start = Date.now();
    for (let i = 0; i < 5000; i++) h.controller.emit('audit', { at: start + i, kind: 'probe', message: `new ${i}` });
    assert.ok(r.size <= 200, `holds ${r.size} events`);
    assert.equal(r.recent(1)[0].message, 'new 4999');
    assert.equal(r.since(start + 4950)?.length, 50, 'a range memory holds in full');
    assert.equal(r.since(start), undefined, 'a range memory no longer holds in full is not answered from memory');
    r.close();
  });
});
