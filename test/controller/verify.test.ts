import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyAll, type DnsQueryFn } from '../../src/controller/verify.ts';

const expect = [{ name: 'example.test', type: 'A' as const, ttl: 60, values: ['127.0.0.11'] }];

describe('verifyAll', () => {
  it('asks every server even when the decision is older than the deadline, and says what it answered', async () => {
    let asked = 0;
    const query: DnsQueryFn = async () => { asked++; return { ok: true, values: ['127.0.0.12'] }; };
    const [v] = await verifyAll({ targets: [{ provider: 'p', servers: ['s1'], expect }], query, startedAt: Date.now() - 60_000, deadlineMs: 0 });
    assert.ok(asked >= 1);
    assert.equal(v.converged, false);
    assert.match(v.last ?? '', /answers 127\.0\.0\.12, want 127\.0\.0\.11/);
  });

  it('the deadline runs from the write: a decision older than the deadline still converges', async () => {
    const query: DnsQueryFn = async () => ({ ok: true, values: ['127.0.0.11'] });
    const [v] = await verifyAll({ targets: [{ provider: 'p', servers: ['s1'], expect }], query, startedAt: Date.now() - 60_000, deadlineMs: 1000 });
    assert.equal(v.converged, true);
    assert.ok((v.ms ?? 0) >= 60_000, 'ms counts from the decision');
  });

  it('an error answer is named, never empty', async () => {
    const query: DnsQueryFn = async () => ({ ok: false, error: '' });
    const [v] = await verifyAll({ targets: [{ provider: 'p', servers: ['s1'], expect }], query, startedAt: Date.now(), deadlineMs: 0 });
    assert.match(v.last ?? '', /example\.test A: no answer/);
  });

  it('a newer write supersedes it at once', async () => {
    const ac = new AbortController();
    const query: DnsQueryFn = async () => ({ ok: true, values: [] });
    const p = verifyAll({ targets: [{ provider: 'p', servers: ['s1'], expect }], query, startedAt: Date.now(), deadlineMs: 60_000, signal: ac.signal });
    ac.abort();
    const [v] = await p;
    assert.equal(v.superseded, true);
    assert.equal(v.converged, false);
  });
});
