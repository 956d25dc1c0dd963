import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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

  it('a file store for state.kind file', () => {
    assert.ok(openSecretStore({ stack: 'x', state: { kind: 'file', path: '/tmp/st', endpoints: [] } }) instanceof FileSecretStore);
  });
});
