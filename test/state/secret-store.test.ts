import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import type { LockHold } from '../../src/state/etcd-lock.ts';
import { EtcdSecretStore, openSecretStore, FileSecretStore } from '../../src/state/secret-store.ts';
import { EtcdStateStore } from '../../src/state/etcd-state-store.ts';
import { startEtcd, type EtcdHandle } from '../support/etcd-server.ts';

describe('secrets area in etcd (a real etcd on loopback)', { timeout: 60_000 }, () => {
  let etcd: EtcdHandle;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });

  it('keeps values under <prefix>secrets/, beside (not inside) the state key', async () => {
    const spec = { stack: 'sec', state: { kind: 'etcd' as const, path: '', endpoints: [etcd.endpoint] } };
    const s = openSecretStore(spec);
    assert.ok(s instanceof EtcdSecretStore);
    assert.equal(s.where, '/flotilla/sec/secrets/');
    assert.equal(await s.get('site.key'), undefined);
    await s.put('site.key', 'k1');
    await s.put('site.key', 'k2');
    assert.equal(await s.get('site.key'), 'k2');
    const state = await new EtcdStateStore({ endpoints: [etcd.endpoint], prefix: '/flotilla/sec/' }).load();
    assert.ok(!JSON.stringify(state).includes('k2'), 'the secret is not part of the state');
    await assert.rejects(s.put('a/b', 'x'), /not a plain word/);
  });

  it('with state.secretsKeyEnv every value is sealed at rest; a wrong or missing key is an error and never overwrites', async () => {
    const key1 = randomBytes(32).toString('base64');
    const spec = { stack: 'sealed', state: { kind: 'etcd' as const, path: '', endpoints: [etcd.endpoint], secretsKeyEnv: 'FLOTILLA_SECRETS_KEY' } };
    const s = openSecretStore(spec, { FLOTILLA_SECRETS_KEY: key1 });
    await s.put('site.key', 'PRIVATE-KEY-MATERIAL');
    const rawValue = async () => {
      const c = new Etcd3({ hosts: [etcd.endpoint] });
      try { return (await c.get('/flotilla/sealed/secrets/site.key').string()) ?? ''; } finally { c.close(); }
    };
    assert.ok(!(await rawValue()).includes('PRIVATE-KEY-MATERIAL'), 'etcd holds no plaintext');
    assert.match(await rawValue(), /"alg":"AES-256-GCM","key":"FLOTILLA_SECRETS_KEY","kid":"[0-9a-f]{16}"/);
    assert.equal(await s.get('site.key'), 'PRIVATE-KEY-MATERIAL');
    assert.deepEqual(await s.plaintextNames!(), []);

    const other = openSecretStore(spec, { FLOTILLA_SECRETS_KEY: randomBytes(32).toString('base64') });
    await assert.rejects(other.get('site.key'), (e: Error & { code?: string }) => e.code === 'SECRETS_KEY_WRONG');
    const before = await rawValue();
    await assert.rejects(other.put('site.key', 'other'), (e: Error & { code?: string }) => e.code === 'SECRETS_KEY_WRONG' && /refusing to replace/.test(e.message));
    const noKey = openSecretStore({ ...spec, state: { ...spec.state, secretsKeyEnv: undefined } });
    await assert.rejects(noKey.get('site.key'), (e: Error & { code?: string }) => e.code === 'SECRETS_KEY_MISSING');
    await assert.rejects(noKey.put('site.key', 'plain'), (e: Error & { code?: string }) => e.code === 'SECRETS_KEY_MISSING' && /by a plaintext value/.test(e.message));
    assert.equal(await rawValue(), before, 'neither wrote anything');
    assert.throws(() => openSecretStore(spec, {}), (e: Error & { code?: string }) => e.code === 'SECRETS_KEY_MISSING' && /FLOTILLA_SECRETS_KEY, which is not set/.test(e.message));

    // plaintext written before the key was set: read as is, listed, sealed by its next write
    await noKey.put('acme-accounts.json', '{}');
    assert.deepEqual(await s.plaintextNames!(), ['acme-accounts.json']);
    assert.equal(await s.get('acme-accounts.json'), '{}');
    await s.put('acme-accounts.json', '{"a":1}');
    assert.deepEqual(await s.plaintextNames!(), []);
  });

  it('a save fenced by a key that no longer holds its create revision is refused and writes nothing', async () => {
    const s = openSecretStore({ stack: 'fenced', state: { kind: 'etcd' as const, path: '', endpoints: [etcd.endpoint] } });
    const c = new Etcd3({ hosts: [etcd.endpoint] });
    try {
      await c.put('/flotilla/fenced/election/leader/1').value('x');
      const fence = { key: '/flotilla/fenced/election/leader/1', createRevision: Number((await c.get('/flotilla/fenced/election/leader/1').exec()).kvs[0].create_revision) };
      await s.put('site.crt', 'old', [fence]);
      assert.equal(await s.get('site.crt'), 'old', 'written while the fence holds');
      // deposed: the key is gone (its lease ran out), or another campaign created it again
      await c.delete().key(fence.key);
      await assert.rejects(s.put('site.crt', 'new', [fence]), (e: Error & { code?: string }) => e.code === 'NOT_LEADER');
      await c.put(fence.key).value('y');
      await assert.rejects(s.put('site.crt', 'new', [fence]), (e: Error & { code?: string }) => e.code === 'NOT_LEADER');
      assert.equal(await s.get('site.crt'), 'old');
    } finally {
      c.close();
    }
  });

  it('exclusive() is an etcd lock: a second holder waits (told who holds it) or times out naming the holder; a lost lock refuses', async () => {
    const s = openSecretStore({ stack: 'lock', state: { kind: 'etcd' as const, path: '', endpoints: [etcd.endpoint], leaseMs: 2000 } });
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let firstIn!: () => void;
    const entered = new Promise<void>((r) => (firstIn = r));
    const waits: string[] = [];
    const first = s.exclusive('acme-order', async () => { order.push('first in'); firstIn(); await held; order.push('first out'); }, 10_000);
    await entered;
    const second = s.exclusive('acme-order', async () => { order.push('second in'); }, 10_000, { onWait: (h) => { waits.push(h); release(); } });
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first in', 'first out', 'second in']);
    assert.match(waits[0], /pid \d+ since \d{4}-/);

    let out!: () => void;
    const hold = new Promise<void>((r) => (out = r));
    let inside!: (h: LockHold) => void;
    const got = new Promise<LockHold>((r) => (inside = r));
    const a = s.exclusive('acme-order', async (h) => { inside(h); await hold; }, 10_000);
    const h = await got;
    await assert.rejects(s.exclusive('acme-order', async () => undefined, 600), (e: Error & { code?: string }) => e.code === 'STATE_CONFLICT' && /could not take the etcd lock \/flotilla\/lock\/locks\/acme-order within 1 s: held by .* pid \d+/.test(e.message));
    await h.confirm();
    await s.put('site.crt', 'under the lock', [h.fence!]);
    // the holder paused past its lease: the key is gone, so its writes are refused
    const c = new Etcd3({ hosts: [etcd.endpoint] });
    await c.delete().key('/flotilla/lock/locks/acme-order');
    c.close();
    await assert.rejects(h.confirm(), (e: Error & { code?: string }) => e.code === 'NOT_LEADER' && /no longer holds the lock/.test(e.message));
    await assert.rejects(s.put('site.crt', 'after the lock', [h.fence!]), (e: Error & { code?: string }) => e.code === 'NOT_LEADER');
    assert.equal(await s.get('site.crt'), 'under the lock');
    out();
    await a;
  });

  it('a file store for state.kind file', () => {
    assert.ok(openSecretStore({ stack: 'x', state: { kind: 'file', path: '/tmp/st', endpoints: [] } }) instanceof FileSecretStore);
  });
});
