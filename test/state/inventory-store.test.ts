import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Inventory } from '../../src/domain/inventory.ts';
import { EtcdStateStore } from '../../src/state/etcd-state-store.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { StateCorruptError } from '../../src/state/state-corrupt-error.ts';
import { updateState, type StateStore } from '../../src/state/state-store.ts';
import { startEtcd, type EtcdHandle } from '../support/etcd-server.ts';

const inventory: Inventory = {
  updatedAt: 1_700_000_000_000,
  stack: 'example',
  mirrors: {
    'aws-fra': { provider: 'aws', ipv4: '198.51.100.7', ipv6: '2001:db8::7', resourceId: 'i-0abc', digest: 'a'.repeat(64), at: 1_700_000_000_000, source: 'pulumi' },
    'hetzner-nbg': { provider: 'hcloud', at: 1_700_000_000_000, source: 'pulumi' },
  },
};

/** The same cases for both stores: the inventory is part of the state and parsed with its schema. */
function roundTrip(open: () => StateStore) {
  it('keeps the inventory across saves of other fields (the daemon saving health never drops it)', async () => {
    const s = open();
    await updateState(s, (st) => { st.inventory = inventory; });
    await updateState(s, (st) => { st.lastGood = ['aws-fra']; st.health = {}; });
    assert.deepEqual((await open().load()).inventory, inventory);
  });

  it('refuses to save an inventory that would not read back (an address that is not one)', async () => {
    const s = open();
    const bad = structuredClone(inventory);
    bad.mirrors['aws-fra'].ipv4 = 'aws-fra.example.org';
    await assert.rejects(updateState(s, (st) => { st.inventory = bad; }), (e: unknown) => e instanceof Error && /inventory\.mirrors\.aws-fra\.ipv4: expected an IPv4 address/.test(e.message));
  });
}

describe('mirror inventory in the file store', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'flotilla-inventory-'));
  let d = dir();
  roundTrip(() => new FileStateStore(d));

  it('a stored inventory of the wrong shape is refused on load with its path, and never overwritten', async () => {
    d = dir();
    const text = JSON.stringify({ version: 2, inventory: { updatedAt: 1, mirrors: { a: { provider: 'gcp', at: 1, source: 'pulumi' } } } });
    writeFileSync(join(d, 'state.json'), text);
    await assert.rejects(new FileStateStore(d).load(), (e: unknown) => e instanceof StateCorruptError && e.exitCode === 2 && /inventory\.mirrors\.a\.provider/.test(e.message));
    assert.equal(readFileSync(join(d, 'state.json'), 'utf8'), text);
  });
});

describe('mirror inventory in the etcd store', () => {
  let etcd: EtcdHandle;
  const prefix = `/flotilla-test/${randomBytes(4).toString('hex')}/`;
  before(async () => { etcd = await startEtcd(); });
  after(async () => { await etcd?.stop(); });
  roundTrip(() => new EtcdStateStore({ endpoints: [etcd.endpoint], prefix }));
});
