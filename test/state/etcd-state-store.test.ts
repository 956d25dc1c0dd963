import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FlotillaError, StateError } from '../../src/domain/errors.ts';
import { EtcdClient, prefixEnd } from '../../src/state/etcd-client.ts';
import { EtcdStateStore, type EtcdStateStoreOptions } from '../../src/state/etcd-state-store.ts';
import { StateUnavailableError } from '../../src/state/state-unavailable-error.ts';
import { updateState } from '../../src/state/state-store.ts';
import { StateCorruptError } from '../../src/state/state-corrupt-error.ts';
import { emptyState } from '../../src/domain/state.ts';
import { startEtcd, type EtcdHandle } from '../support/etcd-server.ts';
import { freePort } from '../support/ports.ts';

describe('EtcdStateStore against a real etcd', () => {
  let etcd: EtcdHandle;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });

  const newPrefix = () => `/flotilla-test/${randomBytes(4).toString('hex')}/`;
  const open = (prefix: string, extra: Partial<EtcdStateStoreOptions> = {}) => new EtcdStateStore({ endpoints: [etcd.endpoint], prefix, ...extra });
  /** A refused connection: a port nothing listens on. */
  const deadEndpoint = async () => `http://127.0.0.1:${await freePort('127.0.0.1')}`;
  const isUnavailable = (endpoint: string, reason: RegExp) => (e: unknown) => {
    assert.ok(e instanceof StateUnavailableError, `expected StateUnavailableError, got ${String(e)}`);
    assert.ok(e instanceof StateError && e instanceof FlotillaError);
    assert.equal(e.code, 'STATE_UNAVAILABLE');
    assert.equal(e.retryable, true);
    assert.ok(e.message.includes(endpoint), e.message);
    assert.match(e.message, reason);
    return true;
  };

  it('runs against a real etcd 3.x', () => {
    assert.match(etcd.version, /^3\.\d+\.\d+/);
  });

  it('an audit entry quoting a URL with credentials is stored redacted (the CLI appends without a controller)', async () => {
    const s = open(newPrefix());
    await s.append({ at: Date.now(), kind: 'override', message: 'drain: see http://ops:pw-Xy7@10.0.0.1/?token=pw-Xy7' });
    const [e] = await s.audit();
    assert.equal(e.message, 'drain: see http://***@10.0.0.1/?token=***');
  });

  it('starts empty and saves with a version check', async () => {
    const s = open(newPrefix());
    const st = await s.load();
    assert.equal(st.version, 0);
    assert.deepEqual(st.lastGood, []);
    assert.equal(await s.save({ ...st, lastGood: ['a'] }, 0), true);
    assert.equal(await s.save({ ...st, lastGood: ['b'] }, 0), false, 'stale version must be refused');
    const again = await s.load();
    assert.equal(again.version, 1);
    assert.deepEqual(again.lastGood, ['a']);
    assert.ok(again.updatedAt > 0);
    assert.equal(await s.save({ ...again, lastGood: ['c'] }, 1), true);
    assert.equal(await s.save({ ...again, lastGood: ['d'] }, 5), false, 'a version from the future must be refused too');
    assert.deepEqual((await open(s.prefix).load()).lastGood, ['c']);
  });

  it('40 concurrent updaters in two store instances lose no update', async () => {
    const prefix = newPrefix();
    const a = open(prefix);
    const b = open(prefix);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => updateState(i % 2 ? a : b, (st) => { st.lastGood.push(`m${i}`); })),
    );
    const st = await a.load();
    assert.equal(st.lastGood.length, 40);
    assert.deepEqual([...st.lastGood].sort(), Array.from({ length: 40 }, (_, i) => `m${i}`).sort());
    assert.equal(st.version, 40);
  });

  it('a second process updating the same prefix at the same time loses nothing either', async () => {
    const prefix = newPrefix();
    const script = `
      import { EtcdStateStore } from ${JSON.stringify(join(import.meta.dirname, '../../src/state/etcd-state-store.ts'))};
      import { updateState } from ${JSON.stringify(join(import.meta.dirname, '../../src/state/state-store.ts'))};
      const s = new EtcdStateStore({ endpoints: [${JSON.stringify(etcd.endpoint)}], prefix: ${JSON.stringify(prefix)} });
      await Promise.all(Array.from({ length: 15 }, (_, i) => updateState(s, (st) => { st.lastGood.push('child' + i); })));
      await s.append({ at: Date.now(), kind: 'override', message: 'from the child', actor: 'responder' });
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'inherit', 'inherit'] });
    let running = true;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => { running = false; r(code); }));
    const s = open(prefix);
    // keep writing from before the child starts until it has exited, so the two overlap whatever the machine's speed
    let n = 0;
    while (running) {
      const i = n++;
      await updateState(s, (st) => { st.lastGood.push(`parent${i}`); });
    }
    assert.equal(await exited, 0, 'child exited cleanly');
    const st = await s.load();
    assert.equal(st.version, 15 + n);
    assert.equal(new Set(st.lastGood).size, 15 + n);
    assert.equal(st.lastGood.filter((g) => g.startsWith('child')).length, 15);
    const events = await s.audit();
    assert.deepEqual(events.map((e) => [e.message, e.actor]), [['from the child', 'responder']]);
  });

  it('returns audit events oldest first, filters by since, and keeps same-millisecond events in append order', async () => {
    const s = open(newPrefix());
    await Promise.all(Array.from({ length: 50 }, (_, i) => s.append({ at: 1000 + i, kind: 'decision', message: `e${i}` })));
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.append({ at: 5000, kind: 'apply', message: `same${i}`, data: { i } })));
    const events = await s.audit();
    assert.equal(events.length, 60);
    assert.deepEqual(events.slice(0, 50).map((e) => e.message), Array.from({ length: 50 }, (_, i) => `e${i}`));
    assert.deepEqual(events.slice(50).map((e) => e.message), Array.from({ length: 10 }, (_, i) => `same${i}`));
    assert.deepEqual(events[50], { at: 5000, kind: 'apply', message: 'same0', data: { i: 0 } }, 'events round-trip unchanged');
    const since = await s.audit(1025);
    assert.equal(since.length, 35);
    assert.equal(since[0].message, 'e25');
    assert.equal((await s.audit(1025.5)).length, 34, 'a fractional since is compared exactly');
    assert.deepEqual(await s.audit(5001), []);
    // one key per event, each written once
    const raw = await new EtcdClient({ endpoints: [etcd.endpoint] }).range(s.auditPrefix, { rangeEnd: prefixEnd(s.auditPrefix) });
    assert.equal(raw.kvs.length, 60);
    assert.ok(raw.kvs.every((kv) => kv.version === 1));
  });

  it('reads 1,000 audit events back in order across pages, never more than a page per request', async () => {
    const ranges: { limit: number | undefined; returned: number }[] = [];
    const spyFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).endsWith('/kv/range')) {
        const req = JSON.parse(String(init?.body)) as { limit?: string };
        const body = (await res.clone().json()) as { kvs?: unknown[] };
        ranges.push({ limit: req.limit === undefined ? undefined : Number(req.limit), returned: body.kvs?.length ?? 0 });
      }
      return res;
    };
    const prefix = newPrefix();
    const writer = open(prefix);
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) => {
          const i = batch * 100 + j;
          return writer.append({ at: 1_700_000_000_000 + Math.floor(i / 3), kind: 'verify', message: `n${i}` });
        }),
      );
    }
    const reader = open(prefix, { pageSize: 100, fetch: spyFetch });
    const events = await reader.audit();
    assert.equal(events.length, 1000);
    assert.deepEqual(events.map((e) => e.message), Array.from({ length: 1000 }, (_, i) => `n${i}`));
    assert.ok(ranges.length >= 10, `${ranges.length} range requests`);
    assert.ok(ranges.every((r) => r.limit === 100 && r.returned <= 100), JSON.stringify(ranges));
    const tail = await reader.audit(1_700_000_000_000 + 300);
    assert.equal(tail.length, 100);
    assert.equal(tail[0].message, 'n900');
  });

  it('a second instance sees the first one’s state and audit; another prefix sees neither', async () => {
    const prefix = newPrefix();
    const a = open(prefix);
    const b = open(prefix);
    const st = await a.load();
    assert.equal(await a.save({ ...st, lastGood: ['m1'], overrides: [{ id: 'o1', kind: 'drain', mirror: 'm2', reason: 'disk', author: 'ann', createdAt: 1, expiresAt: 9e12 }] }, 0), true);
    await a.append({ at: 42, kind: 'override', message: 'drain m2', actor: 'ann' });
    const seen = await b.load();
    assert.equal(seen.version, 1);
    assert.deepEqual(seen.lastGood, ['m1']);
    assert.deepEqual(seen.overrides.map((o) => [o.id, o.kind, o.mirror, o.author]), [['o1', 'drain', 'm2', 'ann']]);
    assert.deepEqual((await b.audit()).map((e) => e.message), ['drain m2']);
    // b writes on top; a's save from the old version is refused, then a sees b's write
    assert.equal(await b.save({ ...seen, lastGood: ['m1', 'm3'] }, 1), true);
    assert.equal(await a.save({ ...st, lastGood: ['lost'] }, 1), false);
    assert.deepEqual((await a.load()).lastGood, ['m1', 'm3']);
    const other = open(newPrefix());
    assert.equal((await other.load()).version, 0);
    assert.deepEqual(await other.audit(), []);
  });

  it('an unreachable endpoint gives a typed error naming it; the next endpoint is used when one answers', async () => {
    const dead = await deadEndpoint();
    const s = new EtcdStateStore({ endpoints: [dead], prefix: newPrefix() });
    await assert.rejects(s.load(), isUnavailable(dead, /connection refused/));
    await assert.rejects(s.save((await open('/x/').load()), 0), isUnavailable(dead, /connection refused/));
    await assert.rejects(s.append({ at: 1, kind: 'error', message: 'x' }), isUnavailable(dead, /connection refused/));
    await assert.rejects(s.audit(), isUnavailable(dead, /connection refused/));

    const prefix = newPrefix();
    const both = new EtcdStateStore({ endpoints: [dead, etcd.endpoint], prefix });
    const updated = await updateState(both, (st) => { st.lastGood = ['via-fallback']; });
    assert.equal(updated.version, 1);
    await both.append({ at: 7, kind: 'daemon', message: 'fallback works' });
    const direct = open(prefix);
    assert.deepEqual((await direct.load()).lastGood, ['via-fallback']);
    assert.deepEqual((await direct.audit()).map((e) => e.message), ['fallback works']);
  });

  it('an endpoint that accepts but never answers times out and the next one is used', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((sock) => { sockets.add(sock); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const hung = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const alone = new EtcdStateStore({ endpoints: [hung], prefix: newPrefix(), timeoutMs: 300 });
      const t0 = Date.now();
      await assert.rejects(alone.load(), isUnavailable(hung, /no answer within 300 ms/));
      assert.ok(Date.now() - t0 < 3000, 'gave up after its timeout');

      const both = new EtcdStateStore({ endpoints: [hung, etcd.endpoint], prefix: newPrefix(), timeoutMs: 300 });
      assert.equal(await both.save(await both.load(), 0), true);
      const t1 = Date.now();
      assert.equal((await both.load()).version, 1);
      assert.ok(Date.now() - t1 < 250, 'the endpoint that answered is tried first afterwards');
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('a write whose answer was lost is neither applied twice nor reported as failed', async () => {
    // the first txn reaches etcd, then the connection "drops" before the answer: the client repeats it at the next endpoint
    let drop = true;
    const lossy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (drop && String(input).endsWith('/kv/txn')) {
        drop = false;
        await res.arrayBuffer();
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
      }
      return res;
    };
    const prefix = newPrefix();
    const s = new EtcdStateStore({ endpoints: [etcd.endpoint, etcd.endpoint], prefix, fetch: lossy });
    const st = await s.load();
    assert.equal(await s.save({ ...st, lastGood: ['once'] }, 0), true);
    assert.equal(drop, false, 'the answer was dropped');
    const after1 = await open(prefix).load();
    assert.equal(after1.version, 1);
    assert.deepEqual(after1.lastGood, ['once']);

    drop = true;
    await s.append({ at: 99, kind: 'apply', message: 'exactly once' });
    assert.equal(drop, false);
    assert.deepEqual((await open(prefix).audit()).map((e) => e.message), ['exactly once']);
  });

  it('a stored value that is not a state is STATE_CORRUPT; deleting it starts from empty', async () => {
    const s = open(newPrefix());
    const client = new EtcdClient({ endpoints: [etcd.endpoint] });
    await client.put(s.stateKey, 'not json{');
    await assert.rejects(s.load(), (e: unknown) => {
      assert.ok(e instanceof StateError && !(e instanceof StateUnavailableError));
      assert.equal(e.code, 'STATE_CORRUPT');
      assert.ok(e.message.includes(s.stateKey), e.message);
      return true;
    });
    assert.equal(await client.deleteRange(s.stateKey), 1);
    const st = await s.load();
    assert.equal(st.version, 0);
    assert.equal(await s.save(st, 0), true);
  });

  for (const [what, text] of [['null', 'null'], ['an array', '[]'], ['a number', '42'], ['wrong field types', '{"version":1,"health":{"m":{"state":3}}}']] as const) {
    it(`a stored state holding ${what} is refused by load and save (StateCorruptError naming the key) and never overwritten`, async () => {
      const s = open(newPrefix());
      const client = new EtcdClient({ endpoints: [etcd.endpoint] });
      await client.put(s.stateKey, text);
      const refused = (e: unknown) => {
        assert.ok(e instanceof StateCorruptError, String(e));
        assert.equal(e.exitCode, 2);
        assert.ok(e.message.includes(s.stateKey), e.message);
        assert.match(e.message, /expected/);
        return true;
      };
      await assert.rejects(s.load(), refused);
      await assert.rejects(s.save(emptyState(), 0), refused);
      await assert.rejects(s.save(emptyState(), 1), refused);
      await assert.rejects(updateState(s, (st) => { st.lastGood = ['x']; }), refused);
      assert.equal((await client.range(s.stateKey)).kvs[0].value, text);
    });
  }

  it('pages the audit log newest first with a cursor, counting values that are not events', async () => {
    const s = open(newPrefix(), { pageSize: 7 });
    for (let i = 0; i < 40; i++) await s.append({ at: 1_700_000_000_000 + i, kind: 'apply', message: `e${i}` });
    const client = new EtcdClient({ endpoints: [etcd.endpoint] });
    await client.put(`${s.auditPrefix}0001700000000020-zz`, '{"at":1e20,"kind":"x","message":"far"}');
    await client.put(`${s.auditPrefix}0001700000000010-zz`, 'not json');
    const seen: string[] = [];
    let skipped = 0;
    let before: string | undefined;
    do {
      const p = await s.auditPage({ before, limit: 15 });
      assert.ok(p.events.length <= 15);
      seen.unshift(...p.events.map((e) => e.message));
      skipped += p.skipped;
      before = p.next;
    } while (before !== undefined);
    assert.deepEqual(seen, Array.from({ length: 40 }, (_, i) => `e${i}`));
    assert.equal(skipped, 2);
    assert.deepEqual((await s.audit(0, 3)).map((e) => e.message), ['e37', 'e38', 'e39']);
    assert.deepEqual((await s.auditPage({ since: 1_700_000_000_000 + 35, limit: 100 })).events.map((e) => e.message), ['e35', 'e36', 'e37', 'e38', 'e39']);
  });

  it('falls back to /v3beta when /v3 is not served (etcd 3.3)', async () => {
    const paths: string[] = [];
    const oldGateway: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      paths.push(url.pathname);
      if (url.pathname.startsWith('/v3/')) return new Response('404 page not found', { status: 404 });
      return fetch(input, init);
    };
    const s = open(newPrefix(), { fetch: oldGateway });
    assert.equal(await s.save(await s.load(), 0), true);
    assert.equal((await s.load()).version, 1);
    assert.deepEqual(paths.slice(0, 2), ['/v3/kv/range', '/v3beta/kv/range']);
    assert.ok(paths.slice(2).every((p) => p.startsWith('/v3beta/')), paths.join(' '));
  });

  it('refuses a configuration without a usable endpoint', () => {
    assert.throws(() => new EtcdStateStore({ endpoints: [], prefix: '/p/' }), (e: unknown) => e instanceof FlotillaError && e.code === 'CONFIG_INVALID');
    assert.throws(() => new EtcdStateStore({ endpoints: ['ftp://127.0.0.1:1'], prefix: '/p/' }), (e: unknown) => e instanceof FlotillaError && e.code === 'CONFIG_INVALID');
    const s = new EtcdStateStore({ endpoints: ['127.0.0.1:2379/'], prefix: '/p' });
    assert.deepEqual(s.endpoints, ['http://127.0.0.1:2379']);
    assert.equal(s.stateKey, '/p/state');
  });
});
