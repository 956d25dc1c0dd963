/**
 * The rfc2136 driver against real BIND9 and Knot servers: the shared conformance suite on each, then the
 * error mapping (unknown zone, bad/unknown/refused key, missing secret, prerequisite clash, timeouts, SERVFAIL),
 * every record type it claims, and TXT values longer than 255 bytes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { DriverError } from '../../src/domain/errors.ts';
import { normalizeRecordSet, type Change, type RecordSet } from '../../src/domain/records.ts';
import type { Rfc2136Settings } from '../../src/drivers/rfc2136/rfc2136-settings.ts';
import type { DnsDriver } from '../../src/drivers/dns-driver.ts';
import { createRfc2136Driver } from '../../src/drivers/rfc2136/rfc2136-driver.ts';
import { signMessage, tsigKey, verifyRequest } from '../../src/dns/tsig.ts';
import { buildUpdate, updateBatches } from '../../src/drivers/rfc2136/update-message.ts';
import { layout } from '../../src/dns/wire.ts';
import packet from 'dns-packet';
import { conformanceSuite } from './conformance.ts';
import { digValues } from '../support/dig.ts';
import { nsupdate, presentValue, startBind, type DnsServerHandle, type TestTsigKey } from '../support/bind-server.ts';
import { startKnot } from '../support/knot-server.ts';
import { freePort } from '../support/ports.ts';

const SECRET_ENV = 'FLOTILLA_TEST_TSIG_SECRET';
const WRONG_SECRET = randomBytes(32).toString('base64');

function settingsFor(srv: { address: string }, key: Pick<TestTsigKey, 'name' | 'algorithm'>, extra: Partial<Rfc2136Settings> = {}): Rfc2136Settings {
  return { server: srv.address, tsigKeyName: key.name, tsigAlgorithm: key.algorithm, tsigSecretEnv: SECRET_ENV, timeout: '2s', ...extra };
}

function driverFor(srv: DnsServerHandle, key: TestTsigKey = srv.keys[0], secret = key.secret): DnsDriver {
  return createRfc2136Driver({ name: 'primary-dns', settings: settingsFor(srv, key), env: { [SECRET_ENV]: secret } });
}

async function expectDriverError(p: Promise<unknown>, code: DriverError['code'], check?: (e: DriverError) => void): Promise<DriverError> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    assert.ok(e instanceof DriverError, `expected DriverError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    check?.(e);
    return true;
  });
  return caught as DriverError;
}

const servers = [
  { label: 'BIND9', start: startBind, zone: 'example.test' },
  { label: 'Knot', start: startKnot, zone: 'knot.test' },
] as const;

for (const s of servers) {
  let srv: DnsServerHandle;
  conformanceSuite({
    label: `rfc2136 (${s.label})`,
    kind: 'rfc2136',
    zone: s.zone,
    missingZone: 'missing.test',
    async setup() {
      srv = await s.start({ zones: [s.zone] });
    },
    async teardown() {
      await srv?.stop();
    },
    driver: () => driverFor(srv),
    async seedForeign(r: RecordSet) {
      await nsupdate(srv, s.zone, r.values.map((v) => `update add ${r.name}. ${r.ttl} IN ${r.type} ${presentValue(r.type, v)}`));
    },
    query: (name, type) => digValues(srv.address, name, type),
    badCredentialsDriver: () => driverFor(srv, srv.keys[0], WRONG_SECRET),
    secrets: () => [srv.secret, WRONG_SECRET],
  });
}

for (const s of servers) {
  describe(`rfc2136 driver details (${s.label})`, () => {
    let srv: DnsServerHandle;
    let d: DnsDriver;
    const z = s.zone;
    before(async () => {
      srv = await s.start({
        zones: [z],
        extraKeys: [
          { name: 'sha512-key', algorithm: 'hmac-sha512' },
          { name: 'sha1-key', algorithm: 'hmac-sha1' },
          { name: 'outsider-key', algorithm: 'hmac-sha256', allowed: false },
        ],
      });
      d = driverFor(srv);
    });
    after(async () => {
      await srv?.stop();
    });

    it('round-trips every record type it declares', async () => {
      const sets: RecordSet[] = [
        { name: `a.${z}`, type: 'A', ttl: 60, values: ['192.0.2.10', '192.0.2.11'] },
        { name: `aaaa.${z}`, type: 'AAAA', ttl: 60, values: ['2001:DB8:0::1'] },
        { name: `alias.${z}`, type: 'CNAME', ttl: 60, values: [`a.${z}`] },
        { name: `mx.${z}`, type: 'MX', ttl: 60, values: ['10 mail.elsewhere.test', '20 backup.elsewhere.test'] },
        { name: `_https._tcp.${z}`, type: 'SRV', ttl: 60, values: [`10 5 443 a.${z}`] },
        { name: `caa.${z}`, type: 'CAA', ttl: 60, values: ['0 issue "letsencrypt.org"'] },
        { name: `sub.${z}`, type: 'NS', ttl: 60, values: ['ns.elsewhere.test'] },
        { name: `txt.${z}`, type: 'TXT', ttl: 60, values: ['v=spf1 -all', 'with "quotes" and \\ backslash'] },
      ];
      const report = await d.applyChanges(z, sets.map((after) => ({ action: 'create', after })));
      assert.deepEqual(report, { provider: 'primary-dns', zone: z, applied: sets.length, requests: 1 });
      const listed = new Map((await d.listRecords(z)).map((r) => [`${r.name}/${r.type}`, normalizeRecordSet(r)]));
      for (const r of sets) assert.deepEqual(listed.get(`${r.name}/${r.type}`), normalizeRecordSet(r), `${r.name}/${r.type}`);
      assert.deepEqual(await digValues(srv.address, `mx.${z}`, 'MX'), ['10 mail.elsewhere.test', '20 backup.elsewhere.test']);
      await d.applyChanges(z, sets.map((before) => ({ action: 'delete', before })));
      const left = await d.listRecords(z);
      assert.deepEqual(left.filter((r) => sets.some((x) => x.name === r.name)), []);
    });

    it('splits TXT values longer than 255 bytes and joins them back', async () => {
      const long = 'v=DKIM1; k=rsa; p=' + 'A'.repeat(600) + ' ünïcödé';
      const r: RecordSet = { name: `long.${z}`, type: 'TXT', ttl: 60, values: [long] };
      await d.applyChanges(z, [{ action: 'create', after: r }]);
      assert.deepEqual(await digValues(srv.address, r.name, 'TXT'), [long.replace(/[^\x00-\x7f]/g, (c) => [...Buffer.from(c)].map((b) => `\\${b}`).join(''))]);
      const listed = (await d.listRecords(z)).find((x) => x.name === r.name && x.type === 'TXT');
      assert.deepEqual(listed?.values, [long]);
      await d.applyChanges(z, [{ action: 'delete', before: r }]);
    });

    it('creating an RRset someone else created meanwhile fails, and the whole batch is left unapplied', async () => {
      const clash: RecordSet = { name: `taken.${z}`, type: 'A', ttl: 300, values: ['198.51.100.1'] };
      await nsupdate(srv, z, [`update add ${clash.name}. 300 IN A 198.51.100.1`]);
      const fresh: RecordSet = { name: `fresh.${z}`, type: 'A', ttl: 300, values: ['192.0.2.50'] };
      const changes: Change[] = [
        { action: 'create', after: fresh },
        { action: 'create', after: { ...clash, values: ['192.0.2.51'] } },
      ];
      await expectDriverError(d.applyChanges(z, changes), 'DRIVER_FAILED', (e) => {
        assert.equal(e.retryable, false);
        assert.match(e.message, /YXRRSET/);
      });
      assert.deepEqual(await digValues(srv.address, fresh.name, 'A'), []);
      assert.deepEqual(await digValues(srv.address, clash.name, 'A'), ['198.51.100.1']);
    });

    it('a failing later batch reports how many changes earlier batches applied', async () => {
      const sets: RecordSet[] = Array.from({ length: 150 }, (_, i) => ({ name: `b${i}.batch.${z}`, type: 'A', ttl: 60, values: [`10.1.0.${i}`] }));
      await nsupdate(srv, z, [`update add b120.batch.${z}. 60 IN A 198.51.100.120`]);
      await expectDriverError(d.applyChanges(z, sets.map((after) => ({ action: 'create', after }))), 'DRIVER_FAILED', (e) => {
        assert.match(e.message, /YXRRSET.*the first 100 of 150 changes were applied/);
      });
      const names = new Set((await d.listRecords(z)).map((r) => r.name));
      assert.ok(names.has(`b99.batch.${z}`) && !names.has(`b100.batch.${z}`) && !names.has(`b149.batch.${z}`));
      await d.applyChanges(z, sets.slice(0, 100).map((before) => ({ action: 'delete', before })));
    });

    it('an update replaces the RRset atomically, a delete removes it', async () => {
      const r: RecordSet = { name: `swap.${z}`, type: 'A', ttl: 120, values: ['192.0.2.1', '192.0.2.2'] };
      await d.applyChanges(z, [{ action: 'create', after: r }]);
      const next = { ...r, ttl: 30, values: ['192.0.2.3'] };
      await d.applyChanges(z, [{ action: 'update', before: r, after: next }]);
      const listed = (await d.listRecords(z)).find((x) => x.name === r.name && x.type === 'A');
      assert.deepEqual(listed, { ...next });
      await d.applyChanges(z, [{ action: 'delete', before: next }]);
      assert.deepEqual(await digValues(srv.address, r.name, 'A'), []);
    });

    it('content the server refuses is DRIVER_FAILED, not an auth error', async () => {
      // BIND refuses an in-zone MX target without address records (check-integrity); Knot accepts it.
      const mx: RecordSet = { name: `mx2.${z}`, type: 'MX', ttl: 60, values: [`10 nomail.${z}`] };
      const apply = d.applyChanges(z, [{ action: 'create', after: mx }]);
      if (s.label === 'BIND9') {
        await expectDriverError(apply, 'DRIVER_FAILED', (e) => assert.match(e.message, /REFUSED.*policy rejected/));
        assert.deepEqual(await digValues(srv.address, mx.name, 'MX'), []);
      } else {
        await apply;
        assert.deepEqual(await digValues(srv.address, mx.name, 'MX'), [`10 nomail.${z}`]);
      }
    });

    it('a CNAME beside other data, or data beside a CNAME, is a failure, though the server answers NOERROR (RFC 2136 §3.4.2.2)', async () => {
      const a: RecordSet = { name: `both.${z}`, type: 'A', ttl: 60, values: ['192.0.2.7'] };
      await d.applyChanges(z, [{ action: 'create', after: a }]);
      const cname: RecordSet = { name: `both.${z}`, type: 'CNAME', ttl: 60, values: ['target.elsewhere.test'] };
      await expectDriverError(d.applyChanges(z, [{ action: 'create', after: cname }]), 'DRIVER_FAILED', (e) => {
        assert.match(e.message, /serves both\.\S+ CNAME as nothing, not as written: a CNAME cannot share its name with other data.*RFC 2136 §3\.4\.2\.2/);
      });
      assert.deepEqual(await digValues(srv.address, cname.name, 'CNAME'), []);
      assert.deepEqual(await digValues(srv.address, a.name, 'A'), ['192.0.2.7']);

      const alias: RecordSet = { name: `alias2.${z}`, type: 'CNAME', ttl: 60, values: ['target.elsewhere.test'] };
      await d.applyChanges(z, [{ action: 'create', after: alias }]);
      const txt: RecordSet = { name: alias.name, type: 'TXT', ttl: 60, values: ['beside'] };
      await expectDriverError(d.applyChanges(z, [{ action: 'create', after: txt }]), 'DRIVER_FAILED', (e) => {
        assert.match(e.message, /serves alias2\.\S+ TXT as a CNAME to target\.elsewhere\.test.*holds a CNAME/);
      });
      await d.applyChanges(z, [{ action: 'delete', before: a }, { action: 'delete', before: alias }]);
    });

    it('signs with hmac-sha512 and hmac-sha1 keys as well', async () => {
      for (const name of ['sha512-key', 'sha1-key']) {
        const key = srv.keys.find((k) => k.name === name)!;
        const kd = driverFor(srv, key);
        const r: RecordSet = { name: `${name}.${z}`, type: 'A', ttl: 60, values: ['192.0.2.77'] };
        await kd.applyChanges(z, [{ action: 'create', after: r }]);
        assert.ok((await kd.listRecords(z)).some((x) => x.name === r.name), `${name} could not list its own record`);
        await kd.applyChanges(z, [{ action: 'delete', before: r }]);
      }
    });

    it('an unknown zone is DRIVER_NOT_FOUND for UPDATE as for AXFR', async () => {
      await expectDriverError(
        d.applyChanges('nowhere.test', [{ action: 'create', after: { name: 'a.nowhere.test', type: 'A', ttl: 60, values: ['192.0.2.1'] } }]),
        'DRIVER_NOT_FOUND',
        (e) => assert.ok(e.message.includes('nowhere.test') && e.message.includes('primary-dns'), e.message),
      );
      await expectDriverError(d.listRecords('nowhere.test'), 'DRIVER_NOT_FOUND');
    });

    it('a wrong secret is DRIVER_AUTH (BADSIG) and never leaks the secret', async () => {
      const wrong = randomBytes(32).toString('base64');
      const e = await expectDriverError(driverFor(srv, srv.keys[0], wrong).listRecords(z), 'DRIVER_AUTH', (err) => assert.match(err.message, /BADSIG/));
      assert.ok(!e.message.includes(wrong) && !e.message.includes(srv.secret));
    });

    it('a key the server does not know is DRIVER_AUTH (BADKEY)', async () => {
      const stranger = { name: 'stranger-key', algorithm: 'hmac-sha256' as const, secret: randomBytes(32).toString('base64'), allowed: false };
      await expectDriverError(
        driverFor(srv, stranger).applyChanges(z, [{ action: 'delete', before: { name: `x.${z}`, type: 'A', ttl: 60, values: ['192.0.2.1'] } }]),
        'DRIVER_AUTH',
        (e) => assert.match(e.message, /BADKEY/),
      );
    });

    it('a valid key the zone ACL refuses is DRIVER_AUTH, not "zone not found"', async () => {
      const outsider = srv.keys.find((k) => k.name === 'outsider-key')!;
      const od = driverFor(srv, outsider);
      await expectDriverError(od.listRecords(z), 'DRIVER_AUTH', (e) => assert.match(e.message, /outsider-key/));
      await expectDriverError(
        od.applyChanges(z, [{ action: 'create', after: { name: `o.${z}`, type: 'A', ttl: 60, values: ['192.0.2.1'] } }]),
        'DRIVER_AUTH',
      );
    });

    it('a missing secret variable is DRIVER_AUTH naming the variable', async () => {
      const nd = createRfc2136Driver({ name: 'primary-dns', settings: settingsFor(srv, srv.keys[0]), env: {} });
      await expectDriverError(nd.listRecords(z), 'DRIVER_AUTH', (e) => {
        assert.ok(e.message.includes(SECRET_ENV) && e.message.includes(z), e.message);
      });
      const bad = createRfc2136Driver({ name: 'primary-dns', settings: settingsFor(srv, srv.keys[0]), env: { [SECRET_ENV]: 'not base64!' } });
      await expectDriverError(bad.listRecords(z), 'DRIVER_AUTH', (e) => assert.ok(!e.message.includes('not base64!'), e.message));
    });
  });
}

describe('rfc2136 UPDATE messages (pure)', () => {
  const z = 'example.test';
  const a: RecordSet = { name: `www.${z}`, type: 'A', ttl: 60, values: ['192.0.2.1', '192.0.2.2'] };

  function sections(changes: Change[]) {
    const msg = buildUpdate(z, changes, 7);
    const l = layout(msg);
    const view = (r: (typeof l.sections.answers)[number]) => ({ name: r.name, type: r.type, klass: r.klass, ttl: r.ttl, rdlength: msg.readUInt16BE(r.rdlengthAt) });
    return { opcode: (msg.readUInt16BE(2) >> 11) & 0xf, zone: packet.decode(msg).questions, prereq: l.sections.answers.map(view), update: l.sections.authorities.map(view) };
  }

  it('create = prerequisite "RRset does not exist" (class NONE) + one add per value', () => {
    const s = sections([{ action: 'create', after: a }]);
    assert.equal(s.opcode, 5);
    assert.deepEqual(s.zone, [{ name: z, type: 'SOA', class: 'IN' }]);
    assert.deepEqual(s.prereq, [{ name: a.name, type: 1, klass: 254, ttl: 0, rdlength: 0 }]);
    assert.deepEqual(s.update, [
      { name: a.name, type: 1, klass: 1, ttl: 60, rdlength: 4 },
      { name: a.name, type: 1, klass: 1, ttl: 60, rdlength: 4 },
    ]);
  });

  it('update = delete the RRset (class ANY) then add the new values, in one message; delete = delete the RRset', () => {
    const s = sections([{ action: 'update', before: a, after: { ...a, values: ['192.0.2.3'] } }, { action: 'delete', before: { ...a, name: `old.${z}` } }]);
    assert.deepEqual(s.prereq, []);
    assert.deepEqual(s.update, [
      { name: a.name, type: 1, klass: 255, ttl: 0, rdlength: 0 },
      { name: a.name, type: 1, klass: 1, ttl: 60, rdlength: 4 },
      { name: `old.${z}`, type: 1, klass: 255, ttl: 0, rdlength: 0 },
    ]);
  });

  it('the apex NS RRset is edited value by value (a server ignores deleting it whole)', () => {
    const ns: RecordSet = { name: z, type: 'NS', ttl: 300, values: ['ns1.example.net', 'ns2.example.net'] };
    const s = sections([{ action: 'update', before: ns, after: { ...ns, values: ['ns2.example.net', 'ns3.example.net'] } }]);
    assert.deepEqual(s.update.map((r) => r.klass), [254, 1, 1]);
  });

  it('batches by change count and by message size', () => {
    const small = Array.from({ length: 250 }, (_, i): Change => ({ action: 'create', after: { ...a, name: `h${i}.${z}`, values: ['192.0.2.1'] } }));
    assert.deepEqual(updateBatches(z, small, 100).map((b) => b.length), [100, 100, 50]);
    const big = Array.from({ length: 90 }, (_, i): Change => ({ action: 'create', after: { name: `t${i}.${z}`, type: 'TXT', ttl: 60, values: ['x'.repeat(1500)] } }));
    const batches = updateBatches(z, big, 100);
    assert.ok(batches.length >= 3, `expected a split by size, got ${batches.map((b) => b.length)}`);
    for (const b of batches) assert.ok(buildUpdate(z, b, 1).length < 60_000);
    assert.deepEqual(batches.flat(), big);
    assert.throws(() => updateBatches(z, [{ action: 'create', after: { name: `huge.${z}`, type: 'TXT', ttl: 60, values: Array.from({ length: 300 }, (_, i) => `${i}`.padEnd(250, 'z')) } }], 100));
  });
});

describe('rfc2136 driver against unreachable or failing servers', () => {
  const key = tsigKey('flotilla-key', 'hmac-sha256', randomBytes(32).toString('base64'));
  const env = { [SECRET_ENV]: key.secret.toString('base64') };
  const sockets: Socket[] = [];
  after(() => {
    for (const s of sockets) s.close();
  });

  async function udpServer(onMessage: (msg: Buffer, reply: (b: Buffer) => void) => void): Promise<string> {
    const port = await freePort();
    const sock = createSocket('udp4');
    sockets.push(sock);
    sock.on('message', (msg, rinfo) => onMessage(msg, (b) => sock.send(b, rinfo.port, rinfo.address)));
    await new Promise<void>((res) => sock.bind(port, '127.0.0.1', () => res()));
    return `127.0.0.1:${port}`;
  }

  const create: Change = { action: 'create', after: { name: 'a.example.test', type: 'A', ttl: 60, values: ['192.0.2.1'] } };

  it('nothing listening: DRIVER_FAILED, retryable', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const d = createRfc2136Driver({ name: 'primary-dns', settings: settingsFor({ address }, { name: key.name, algorithm: 'hmac-sha256' }, { timeout: '300ms' }), env });
    await expectDriverError(d.listRecords('example.test'), 'DRIVER_FAILED', (e) => assert.equal(e.retryable, true));
  });

  it('a server that never answers: DRIVER_FAILED after the timeout, retryable', async () => {
    let seen = 0;
    const address = await udpServer(() => seen++);
    const d = createRfc2136Driver({ name: 'primary-dns', settings: settingsFor({ address }, { name: key.name, algorithm: 'hmac-sha256' }, { timeout: '150ms' }), env });
    const t0 = Date.now();
    await expectDriverError(d.applyChanges('example.test', [create]), 'DRIVER_FAILED', (e) => {
      assert.equal(e.retryable, true);
      assert.match(e.message, /150ms/);
    });
    assert.equal(seen, 3, 'three attempts');
    assert.ok(Date.now() - t0 >= 450, 'each attempt waited for its timeout');
  });

  it('SERVFAIL is retried, then the signed NOERROR is accepted', async () => {
    let n = 0;
    const address = await udpServer((msg, reply) => {
      const v = verifyRequest(msg, key);
      assert.ok(v.ok, v.reason);
      // the driver's check after the UPDATE (a QUERY): answer what was written
      if (((msg[2] >> 3) & 0xf) === 0) return reply(signMessage(queryAnswer(msg, [{ name: 'a.example.test', type: 'A', ttl: 60, data: '192.0.2.1' }]), key, { priorMac: v.tsig!.mac }).message);
      const rcode = ++n <= 2 ? 2 : 0;
      reply(signMessage(bareAnswer(msg, rcode), key, { priorMac: v.tsig!.mac }).message);
    });
    const d = createRfc2136Driver({ name: 'primary-dns', settings: settingsFor({ address }, { name: key.name, algorithm: 'hmac-sha256' }), env });
    const report = await d.applyChanges('example.test', [create]);
    assert.equal(n, 3);
    assert.equal(report.requests, 3);
    assert.equal(report.applied, 1);
  });

  it('an unsigned NOERROR answer is rejected (DRIVER_AUTH): no one can fake a success', async () => {
    const address = await udpServer((msg, reply) => {
      reply(bareAnswer(msg, 0));
    });
    const d = createRfc2136Driver({ name: 'primary-dns', settings: settingsFor({ address }, { name: key.name, algorithm: 'hmac-sha256' }), env });
    await expectDriverError(d.applyChanges('example.test', [create]), 'DRIVER_AUTH', (e) => assert.match(e.message, /not signed/));
  });

  it('declares its capabilities and nameservers', async () => {
    const d = createRfc2136Driver({
      name: 'primary-dns',
      settings: settingsFor({ address: '127.0.0.1:5300' }, { name: 'k', algorithm: 'hmac-sha256' }, { nameservers: ['127.0.0.2:5300', '127.0.0.3:5300'] }),
      env,
    });
    assert.deepEqual(await d.nameservers('example.test'), ['127.0.0.2:5300', '127.0.0.3:5300']);
    const d2 = createRfc2136Driver({ name: 'p', settings: settingsFor({ address: '127.0.0.1:5300' }, { name: 'k', algorithm: 'hmac-sha256' }), env });
    assert.deepEqual(await d2.nameservers('example.test'), ['127.0.0.1:5300']);
    assert.equal(d.capabilities.granularity, 'rrset');
    assert.equal(d.capabilities.atomicBatch, true);
    assert.equal(d.capabilities.writeBudget.requests, Number.POSITIVE_INFINITY);
  });
});

/** An UPDATE answer to `request` with `rcode`: the header and zone section only, unsigned. */
/** An authoritative NOERROR answer to a QUERY (unsigned; sign it with signMessage). */
function queryAnswer(request: Buffer, answers: packet.Answer[]): Buffer {
  const q = packet.decode(request);
  return packet.encode({ type: 'response', id: q.id, flags: packet.AUTHORITATIVE_ANSWER, questions: q.questions, answers });
}

function bareAnswer(request: Buffer, rcode: number): Buffer {
  let off = 12;
  while (request[off] !== 0) off += request[off] + 1;
  const resp = Buffer.from(request.subarray(0, off + 1 + 4));
  resp.writeUInt16BE(0x8000 | (5 << 11) | rcode, 2);
  resp.fill(0, 6, 12);
  return resp;
}
