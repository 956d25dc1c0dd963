/**
 * THE shared driver conformance suite. Every driver test file calls `conformanceSuite(target)` once.
 * list → apply → list again → second apply makes zero changes; update/delete round trips; foreign records untouched;
 * batches larger than the provider limit split; throttling retried; permanent errors typed and clear.
 * Cases follow the kind's declared capabilities (its descriptor in src/drivers/<kind>/): every declared record type
 * is written and read back (undeclared ones are listed as skipped), a record at the declared TTL floor round-trips,
 * an atomic batch applies all or nothing (skipped where the kind declares no atomic batch).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DriverError } from '../../src/domain/errors.ts';
import type { DnsProviderKind } from '../../src/domain/fleet-spec.ts';
import { normalizeRecordSet, RECORD_TYPES, type Change, type RecordSet, type RecordType } from '../../src/domain/records.ts';
import type { DnsDriver } from '../../src/drivers/dns-driver.ts';
import { DNS_PROVIDERS } from '../../src/drivers/registry.ts';
import { markerRecord, isMarkerName } from '../../src/planner/ownership.ts';
import { planChanges } from '../../src/planner/plan-changes.ts';
import { shapeForProvider } from '../../src/planner/shape-for-provider.ts';
import { challengeRecords } from '../../src/certs/cert-plan.ts';
import { assertNoSecretIn, errorOf } from '../support/secret-leaks.ts';

export interface ConformanceTarget {
  /** Label in test names, e.g. `rfc2136 (BIND9)`. */
  label: string;
  /** The provider kind: its descriptor's declared capabilities decide which cases run. */
  kind: DnsProviderKind;
  /** The provider (or its contract fake) refuses a TTL below the declared floor, so the floor is a real limit. */
  refusesBelowMinTtl?: boolean;
  zone: string;
  /** Starts the server or fake (before all tests). */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  driver(): DnsDriver;
  /** Puts a record on the server directly, bypassing flotilla (a record someone else made). */
  seedForeign(r: RecordSet): Promise<void>;
  /** Direct DNS query at the server (real servers): the values it answers for name/type. */
  query?(name: string, type: RecordType): Promise<string[]>;
  /** Makes the next `n` write requests fail with the provider's throttling response. Fakes only. */
  injectThrottle?(n: number): Promise<void>;
  /** A driver whose credentials the server rejects. */
  badCredentialsDriver?(): DnsDriver;
  /** A zone name the provider does not have. */
  missingZone: string;
  /** The secrets the drivers were given (the real one and the wrong one): no error may carry any of them. */
  secrets?(): string[];
}

const OWNER = 'conformance';
const TTL = 300;

/** One RRset of each type, with values every server accepts (targets outside the zone: no glue needed). */
function sampleOf(type: RecordType, z: string): RecordSet | undefined {
  const at = (label: string, values: string[]): RecordSet => ({ name: `${label}.types.${z}`, type, ttl: TTL, values });
  switch (type) {
    case 'A':
      return at('a', ['192.0.2.41', '192.0.2.42']);
    case 'AAAA':
      return at('aaaa', ['2001:db8::41']);
    case 'CNAME':
      return at('cname', ['target.example.net']);
    case 'TXT':
      return at('txt', ['type check', 'second string']);
    case 'NS':
      return at('deleg', ['ns1.example.net', 'ns2.example.net']);
    case 'MX':
      return at('mx', ['10 mail.example.net']);
    case 'SRV':
      return { ...at('srv', ['10 5 5060 sip.example.net']), name: `_sip._tcp.types.${z}` };
    case 'CAA':
      return at('caa', ['0 issue "letsencrypt.org"']);
    case 'SOA':
      return undefined; // one per zone, the server's own: never written
  }
}

function ours(records: RecordSet[], zone: string): RecordSet[] {
  return records
    .filter((r) => r.type !== 'SOA' && !(r.type === 'NS' && r.name === zone))
    .map(normalizeRecordSet)
    .sort((a, b) => (a.name + a.type < b.name + b.type ? -1 : 1));
}

function owned(name: string, type: RecordType, values: string[]): RecordSet[] {
  return [markerRecord(name, type, OWNER, TTL), { name, type, ttl: TTL, values }];
}

/** `throttled`: write requests the fake answers 429 (each retried, and counted as the request it is). */
async function converge(d: DnsDriver, zone: string, desired: RecordSet[], force = false, throttled = 0) {
  const current = await d.listRecords(zone);
  const plan = planChanges(current, desired, { ownerId: OWNER, maxRemoveShare: 1, force });
  if (plan.changes.length > 0) {
    const declared = d.writeRequests(zone, plan.changes);
    const report = await d.applyChanges(zone, plan.changes);
    // the write budget takes `declared` tokens before the apply: it must cover what the apply sends, retries aside
    assert.ok(declared >= 1 && report.requests <= declared + throttled, `declared ${declared} write request(s), sent ${report.requests}`);
    if (throttled > 0) assert.ok(report.requests >= throttled + 1, `the ${throttled} throttled request(s) are counted: sent ${report.requests}`);
  }
  return plan;
}

export function conformanceSuite(t: ConformanceTarget): void {
  describe(`driver conformance: ${t.label}`, () => {
    let d: DnsDriver;
    const z = t.zone;
    const www = `www.${z}`;
    before(async () => {
      await t.setup();
      d = t.driver();
    });
    after(async () => {
      await d?.close?.();
      await t.teardown();
    });

    const declared = DNS_PROVIDERS[t.kind].capabilities;

    it('declares the capabilities of its kind (the descriptor the controller and Pulumi read)', () => {
      const { maxBatch: _driverBatch, ...fromDriver } = d.capabilities;
      const { maxBatch: _declaredBatch, ...fromDescriptor } = declared;
      assert.deepEqual(fromDriver, fromDescriptor);
      assert.equal(d.kind, t.kind);
      assert.ok(['record', 'rrset', 'zone'].includes(d.capabilities.granularity));
      assert.ok(d.capabilities.maxBatch >= 1);
      assert.ok(d.capabilities.types.includes('A') && d.capabilities.types.includes('TXT'), 'the serving records and their markers');
    });

    for (const type of RECORD_TYPES) {
      const sample = sampleOf(type, z);
      if (!sample) continue;
      if (!declared.types.includes(type)) {
        it(`${type}: not a declared type`, { skip: `${t.kind} does not declare ${type}` }, () => {});
        continue;
      }
      it(`writes and reads back a ${type} RRset (a declared type)`, async () => {
        await d.applyChanges(z, [{ action: 'create', after: sample }]);
        try {
          const held = ours(await d.listRecords(z), z).find((r) => r.name === sample.name && r.type === type);
          assert.deepEqual(held, normalizeRecordSet(sample));
          if (t.query && type !== 'NS') assert.deepEqual((await t.query(sample.name, type)).sort(), [...sample.values].sort());
        } finally {
          await d.applyChanges(z, [{ action: 'delete', before: sample }]);
        }
        assert.equal(ours(await d.listRecords(z), z).some((r) => r.name === sample.name), false);
      });
    }

    it('holds an ACME DNS-01 challenge (two base64url values at _acme-challenge, with its marker) and removes it', async () => {
      // what `flotilla certs` writes: 43-character base64url digests (with - and _) under an underscore label
      const values = [{ name: z, value: 'gfj9Xq-Rs_0P2dY6uC9yBvK3sCq1G0n8i2M5rT4wZ7E' }, { name: `*.${z}`, value: 'Ab_-0123456789abcdefghijklmnopqrstuvwxyzABC' }];
      const recs = shapeForProvider(challengeRecords({ domain: z, alternateDomains: [] }, values, 'conformance')[z], declared, t.kind).records;
      await d.applyChanges(z, recs.map((after): Change => ({ action: 'create', after })));
      try {
        const held = ours(await d.listRecords(z), z).filter((r) => r.name.includes('_acme-challenge'));
        assert.deepEqual(held, ours(recs, z));
        if (t.query) assert.deepEqual((await t.query(`_acme-challenge.${z}`, 'TXT')).sort(), values.map((v) => v.value).sort());
      } finally {
        await d.applyChanges(z, [...recs].reverse().map((before): Change => ({ action: 'delete', before })));
      }
      assert.equal((await d.listRecords(z)).some((r) => r.name.includes('_acme-challenge')), false);
    });

    it(`holds a record at its declared TTL floor (${declared.minTtl}s)`, async () => {
      const r: RecordSet = { name: `floor.${z}`, type: 'A', ttl: declared.minTtl, values: ['192.0.2.51'] };
      await d.applyChanges(z, [{ action: 'create', after: r }]);
      try {
        assert.equal(ours(await d.listRecords(z), z).find((x) => x.name === r.name)?.ttl, declared.minTtl);
      } finally {
        await d.applyChanges(z, [{ action: 'delete', before: r }]);
      }
    });

    it(
      `refuses a TTL below its declared floor (${declared.minTtl - 1}s): the floor shapeForProvider raises to is real`,
      { skip: declared.minTtl === 0 ? 'no floor declared' : !t.refusesBelowMinTtl && 'the floor is advice, not a limit of the provider' },
      async () => {
        const r: RecordSet = { name: `below.${z}`, type: 'A', ttl: declared.minTtl - 1, values: ['192.0.2.52'] };
        await assert.rejects(d.applyChanges(z, [{ action: 'create', after: r }]), (e: unknown) => e instanceof DriverError);
        assert.equal(ours(await d.listRecords(z), z).some((x) => x.name === r.name), false);
      },
    );

    it('an atomic batch applies all or nothing', { skip: !declared.atomicBatch && `${t.kind} declares no atomic batch` }, async () => {
      const good: RecordSet = { name: `atomic.${z}`, type: 'A', ttl: TTL, values: ['192.0.2.61'] };
      // an address that is no address: refused by every server and API (or by the driver before it sends anything)
      const poison: RecordSet = { name: `poison.${z}`, type: 'A', ttl: TTL, values: ['not-an-address'] };
      try {
        await assert.rejects(d.applyChanges(z, [{ action: 'create', after: good }, { action: 'create', after: poison }]));
        assert.equal(ours(await d.listRecords(z), z).some((x) => x.name === good.name), false, 'the valid half of a refused batch must not stay');
      } finally {
        const left = (await d.listRecords(z)).filter((x) => x.name === good.name || x.name === poison.name);
        if (left.length > 0) await d.applyChanges(z, left.map((before): Change => ({ action: 'delete', before })));
      }
    });

    it('lists a fresh zone with none of our records', async () => {
      const list = await d.listRecords(z);
      assert.equal(list.filter((r) => isMarkerName(r.name)).length, 0);
    });

    const desired1 = [...owned(z, 'A', ['192.0.2.1', '192.0.2.2']), ...owned(www, 'A', ['192.0.2.1']), ...owned(`txt.${z}`, 'TXT', ['hello world'])];

    it('applies a change set and lists exactly it', async () => {
      const plan = await converge(d, z, desired1);
      assert.ok(plan.changes.length === desired1.length, `expected ${desired1.length} creates, got ${plan.changes.length}`);
      const after = ours(await d.listRecords(z), z);
      assert.deepEqual(after, ours(desired1, z));
    });

    it('applying the same desired state again makes zero changes', async () => {
      const plan = await converge(d, z, desired1);
      assert.deepEqual(plan.changes, []);
    });

    if (t.query) {
      it('the change is visible with a direct DNS query to the server', async () => {
        assert.deepEqual((await t.query!(z, 'A')).sort(), ['192.0.2.1', '192.0.2.2']);
        assert.deepEqual(await t.query!(`txt.${z}`, 'TXT'), ['hello world']);
      });
    }

    it('updates an RRset in place (round trip)', async () => {
      const desired2 = desired1.map((r) => (r.name === z && r.type === 'A' ? { ...r, values: ['192.0.2.2', '192.0.2.3'] } : r));
      const plan = await converge(d, z, desired2);
      assert.equal(plan.changes.length, 1);
      assert.equal(plan.changes[0].action, 'update');
      assert.deepEqual(ours(await d.listRecords(z), z), ours(desired2, z));
      if (t.query) assert.deepEqual((await t.query(z, 'A')).sort(), ['192.0.2.2', '192.0.2.3']);
      assert.deepEqual((await converge(d, z, desired2)).changes, []);
    });

    it('deletes an RRset and its marker (round trip)', async () => {
      const desired3 = owned(z, 'A', ['192.0.2.2', '192.0.2.3']);
      const plan = await converge(d, z, desired3);
      assert.equal(plan.changes.filter((c) => c.action === 'delete').length, 4);
      assert.deepEqual(ours(await d.listRecords(z), z), ours(desired3, z));
      if (t.query) assert.deepEqual(await t.query(`txt.${z}`, 'TXT'), []);
    });

    it('never touches foreign records', async () => {
      const foreign: RecordSet = { name: `foreign.${z}`, type: 'A', ttl: 600, values: ['198.51.100.7'] };
      const clash: RecordSet = { name: `mail.${z}`, type: 'TXT', ttl: 600, values: ['v=spf1 -all'] };
      await t.seedForeign(foreign);
      await t.seedForeign(clash);
      // desired wants mail/TXT too: a conflict, left alone; foreign/A is not desired: not deleted.
      const desired = [...owned(z, 'A', ['192.0.2.2', '192.0.2.3']), ...owned(`mail.${z}`, 'TXT', ['mine'])];
      const plan = await converge(d, z, desired);
      assert.equal(plan.conflicts.length, 1);
      const list = ours(await d.listRecords(z), z);
      assert.deepEqual(list.find((r) => r.name === `foreign.${z}`), normalizeRecordSet(foreign));
      assert.deepEqual(list.find((r) => r.name === `mail.${z}` && r.type === 'TXT'), normalizeRecordSet(clash));
      assert.equal(list.some((r) => r.name === `_flotilla-txt.mail.${z}`), false);
      // emptying our desired set still leaves them
      await converge(d, z, [], true);
      const left = ours(await d.listRecords(z), z);
      assert.deepEqual(left.map((r) => r.name).sort(), [`foreign.${z}`, `mail.${z}`]);
    });

    it('splits a change set larger than the provider batch limit', async () => {
      const n = Math.min(d.capabilities.maxBatch, 400) + 3;
      const many: RecordSet[] = [];
      for (let i = 0; i < Math.ceil(n / 2); i++) many.push(...owned(`h${i}.bulk.${z}`, 'A', [`10.0.${i >> 8}.${i & 255}`]));
      const current = await d.listRecords(z);
      const plan = planChanges(current, many, { ownerId: OWNER, maxRemoveShare: 1 });
      const report = await d.applyChanges(z, plan.changes);
      assert.equal(report.applied, plan.changes.length);
      assert.equal(report.requests, d.writeRequests(z, plan.changes), 'the declared write requests are the requests sent');
      if (plan.changes.length > d.capabilities.maxBatch) assert.ok(report.requests >= 2, `expected a split, got ${report.requests} request(s)`);
      const names = new Set(ours(await d.listRecords(z), z).map((r) => r.name));
      for (const r of many) assert.ok(names.has(r.name), `missing ${r.name}`);
      await converge(d, z, [], true);
    });

    if (t.injectThrottle) {
      it('retries a throttled write with backoff and succeeds', async () => {
        await t.injectThrottle!(2);
        const desired = owned(`throttle.${z}`, 'A', ['192.0.2.9']);
        await converge(d, z, desired, false, 2);
        assert.deepEqual(ours(await d.listRecords(z), z).filter((r) => r.name.includes('throttle')), ours(desired, z));
        await converge(d, z, [], true);
      });
    }

    it('a missing zone is a typed error naming the provider and zone', async () => {
      await assert.rejects(d.listRecords(t.missingZone), (e: unknown) => {
        assert.ok(e instanceof DriverError, `expected DriverError, got ${String(e)}`);
        assert.equal(e.code, 'DRIVER_NOT_FOUND');
        assert.ok(e.message.includes(t.missingZone) && e.message.includes(d.name), e.message);
        return true;
      });
    });

    if (t.badCredentialsDriver) {
      it('bad credentials are a typed error naming the provider and zone', async () => {
        const bad = t.badCredentialsDriver!();
        try {
          await assert.rejects(bad.applyChanges(z, [{ action: 'create', after: { name: `x.${z}`, type: 'A', ttl: 300, values: ['192.0.2.1'] } }]), (e: unknown) => {
            assert.ok(e instanceof DriverError, `expected DriverError, got ${String(e)}`);
            assert.equal(e.code, 'DRIVER_AUTH');
            assert.ok(e.message.includes(z), e.message);
            return true;
          });
        } finally {
          await bad.close?.();
        }
      });
    }

    if (t.secrets) {
      it('no error carries a secret (message, string form, inspected object, JSON)', async () => {
        const errors: unknown[] = [];
        const collect = async (p: Promise<unknown>) => errors.push(await errorOf(p));
        await collect(d.listRecords(t.missingZone));
        if (t.badCredentialsDriver) {
          const bad = t.badCredentialsDriver();
          await collect(bad.listRecords(z));
          await collect(bad.applyChanges(z, [{ action: 'create', after: { name: `s.${z}`, type: 'A', ttl: 300, values: ['192.0.2.5'] } }]));
          await bad.close?.();
        }
        assert.ok(errors.length >= (t.badCredentialsDriver ? 3 : 1), `expected failures, got ${errors.length}`);
        const secrets = t.secrets!().filter((x) => x.length >= 8);
        assert.ok(secrets.length > 0);
        assertNoSecretIn(errors, secrets);
      });
    }

    it('reports the authoritative nameservers', async () => {
      const ns = await d.nameservers(z);
      assert.ok(ns.length >= 1);
    });
  });
}
