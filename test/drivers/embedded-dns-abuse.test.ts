/**
 * The embedded DNS server under abuse, over real UDP and TCP sockets on loopback (each "client" a loopback
 * address of its own): AXFR only to the allow-list, ANY answered minimally (RFC 8482), UDP response-rate limiting
 * with slip, and capped, timed-out TCP connections.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import * as dnsPacket from 'dns-packet';
import type { Change, RecordSet } from '../../src/domain/records.ts';
import { addressMatcher, LOOPBACK } from '../../src/drivers/local/address-list.ts';
import { handleMessage, startEmbeddedDnsServer, type EmbeddedDnsServer, type EmbeddedDnsServerOptions } from '../../src/drivers/local/embedded-dns-server.ts';
import { ZoneStore } from '../../src/drivers/local/zone-store.ts';
import { dig } from '../support/dig.ts';
import { ensurePackages } from '../support/ensure-packages.ts';

const run = promisify(execFile);
const Z = 'abuse.test';
const create = (r: RecordSet): Change => ({ action: 'create', after: r });

/** Sends `n` A queries at once from `from` and collects the answers, until every query was answered or dropped. */
async function burst(server: EmbeddedDnsServer, from: string, n: number): Promise<dnsPacket.DecodedPacket[]> {
  const sock: UdpSocket = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, from, r));
  const got: dnsPacket.DecodedPacket[] = [];
  sock.on('message', (m) => got.push(dnsPacket.decode(m)));
  const dropped0 = server.stats().udpDropped;
  for (let i = 0; i < n; i++) sock.send(dnsPacket.encode({ type: 'query', id: i + 1, flags: 0, questions: [{ name: Z, type: 'A', class: 'IN' }] }), server.port, '127.0.0.1');
  // the server's own count says when it is done: an answer (full or slipped) reached us, or it dropped the query
  await waitUntil(() => got.length + server.stats().udpDropped - dropped0 >= n);
  sock.close();
  return got;
}

const TC = 1 << 9;

describe('embedded DNS server under abuse', { timeout: 60_000 }, () => {
  let dir = '';
  let store: ZoneStore;
  const servers: EmbeddedDnsServer[] = [];
  const start = async (o: Partial<EmbeddedDnsServerOptions> = {}) => {
    const s = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store, ...o });
    servers.push(s);
    return s;
  };

  before(async () => {
    ensurePackages({ dig: 'dnsutils' });
    dir = mkdtempSync(join(tmpdir(), 'flotilla-dns-abuse-'));
    store = new ZoneStore(dir);
    await store.ensureZone(Z, { nsNames: [`ns1.${Z}`], soaEmail: `hostmaster@${Z}` });
    await store.apply(Z, [
      create({ name: Z, type: 'A', ttl: 60, values: ['192.0.2.1', '192.0.2.2'] }),
      create({ name: Z, type: 'AAAA', ttl: 60, values: ['2001:db8::1'] }),
      create({ name: Z, type: 'MX', ttl: 60, values: [`10 mail.${Z}`] }),
      create({ name: Z, type: 'TXT', ttl: 60, values: ['v=spf1 -all', 'x'.repeat(200), 'y'.repeat(200)] }),
      create({ name: Z, type: 'CAA', ttl: 60, values: ['0 issue "letsencrypt.org"'] }),
      create({ name: `txt.${Z}`, type: 'TXT', ttl: 60, values: ['only txt'] }),
    ]);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('AXFR: loopback by default; with an allow-list only the listed clients, the others get REFUSED', async () => {
    const open = await start();
    const axfr = (s: EmbeddedDnsServer, from: string) => run('dig', ['@127.0.0.1', '-p', String(s.port), '-b', from, Z, 'AXFR', '+time=2', '+tries=1'], { timeout: 10_000 }).then((r) => r.stdout);
    assert.match(await axfr(open, '127.0.0.1'), /IN\s+SOA[\s\S]*IN\s+MX[\s\S]*IN\s+SOA/, 'loopback transfers by default');
    const listed = await start({ axfrAllow: ['127.0.0.2/32', '2001:db8::/32'] });
    assert.match(await axfr(listed, '127.0.0.2'), /IN\s+MX/);
    const refused = await axfr(listed, '127.0.0.1');
    assert.match(refused, /Transfer failed|REFUSED/);
    assert.doesNotMatch(refused, /IN\s+MX/);
    // the default list, for a client that is not loopback (no such source address can be used here)
    const q = dnsPacket.encode({ type: 'query', id: 7, flags: 0, questions: [{ name: Z, type: 'AXFR', class: 'IN' }] });
    const out = handleMessage(store, q, 'tcp', undefined, { client: '192.0.2.7', axfrAllowed: addressMatcher(LOOPBACK) });
    assert.equal(out.length, 1);
    assert.equal((dnsPacket.decode(out[0]).flags ?? 0) & 0xf, 5, 'REFUSED');
    const ok = dnsPacket.decode(handleMessage(store, q, 'tcp', undefined, { client: '::1', axfrAllowed: addressMatcher(LOOPBACK) })[0]);
    assert.ok((ok.answers?.length ?? 0) > 2, 'loopback over IPv6 transfers');
  });

  it('ANY is answered with one RRset (RFC 8482), over UDP and TCP', async () => {
    const s = await start({ rateLimit: false });
    for (const tcp of [false, true]) {
      const r = await dig(s.address, Z, 'ANY', { tcp });
      assert.equal(r.status, 'NOERROR');
      assert.deepEqual([...new Set(r.answers.map((a) => a.type))], ['A'], `${tcp ? 'TCP' : 'UDP'}: ${JSON.stringify(r.answers)}`);
      assert.deepEqual(r.answers.map((a) => a.value).sort(), ['192.0.2.1', '192.0.2.2']);
    }
    assert.deepEqual((await dig(s.address, `txt.${Z}`, 'ANY')).answers.map((a) => `${a.type} ${a.value}`), ['TXT only txt']);
  });

  it('UDP answers are rate-limited per client network: over the limit some slip (TC=1, no records), the rest are dropped', async () => {
    const s = await start({ rateLimit: { responsesPerSecond: 2, slip: 2, exempt: [] } });
    const t0 = Date.now();
    const got = await burst(s, '127.0.0.1', 40);
    // the bucket refills 2 a second while the burst is handled (a loaded machine makes that longer)
    const refill = Math.ceil(((Date.now() - t0) / 1000) * 2);
    const full = got.filter((p) => ((p.flags ?? 0) & TC) === 0);
    const slipped = got.filter((p) => ((p.flags ?? 0) & TC) !== 0);
    assert.ok(full.length >= 2 && full.length <= 2 + refill, `${full.length} full answers (limit 2/s, burst 2)`);
    assert.ok(full.every((p) => p.answers?.length === 2));
    assert.equal(slipped.length, Math.floor((40 - full.length) / 2), 'every 2nd response over the limit slips');
    assert.ok(slipped.every((p) => p.answers?.length === 0 && p.questions?.[0]?.name === Z), 'a slip carries only the question');
    assert.ok(got.length < 40, 'some answers were dropped');
    assert.equal(s.stats().udpDropped + s.stats().udpSlipped, 40 - full.length);
    // another /24 is not affected, and the limited network still gets through over TCP (what TC=1 asks for)
    assert.equal((await burst(s, '127.0.1.1', 1))[0]?.answers?.length, 2);
    assert.equal((await dig(s.address, Z, 'A', { tcp: true })).answers.length, 2);
  });

  it('loopback is exempt by default (the controller verifies there) and the rate table stays bounded', async () => {
    const exempt = await start();
    assert.equal((await burst(exempt, '127.0.0.1', 40)).filter((p) => p.answers?.length === 2).length, 40);
    const s = await start({ rateLimit: { responsesPerSecond: 5, exempt: [], maxEntries: 20 } });
    for (let i = 0; i < 60; i++) await burst(s, `127.0.${10 + i}.1`, 1);
    assert.ok(s.stats().rateTableSize <= 20, `${s.stats().rateTableSize} networks tracked`);
  });

  it('TCP: connections capped per client and in all, idle ones time out, UDP keeps answering', async () => {
    const s = await start({ tcp: { maxConnections: 6, maxPerClient: 3, idleTimeoutMs: 800 } });
    const socks: { sock: Socket; closed: boolean }[] = [];
    const idle = (from: string) =>
      new Promise<{ sock: Socket; closed: boolean }>((resolve) => {
        const c = { sock: connect({ host: '127.0.0.1', port: s.port, localAddress: from }), closed: false };
        c.sock.on('error', () => undefined);
        c.sock.on('close', () => (c.closed = true));
        c.sock.once('connect', () => resolve(c));
        c.sock.once('close', () => resolve(c));
        socks.push(c);
      });
    try {
      for (let i = 0; i < 3; i++) await idle('127.0.0.66');
      const over = await idle('127.0.0.66');
      await waitUntil(() => over.closed);
      assert.equal(s.stats().tcpRefused, 1);
      for (let i = 0; i < 3; i++) await idle('127.0.0.67');
      assert.equal(s.stats().tcpOpen, 6);
      await assert.rejects(dig(s.address, Z, 'A', { tcp: true }).then((r) => (r.status === 'NOERROR' ? r : Promise.reject(new Error(r.status)))));
      assert.equal((await dig(s.address, Z, 'A')).answers.length, 2, 'UDP unaffected');
      await waitUntil(() => socks.every((c) => c.closed), 10_000);
      assert.equal((await dig(s.address, Z, 'A', { tcp: true })).answers.length, 2, 'served again once the idle ones timed out');
    } finally {
      for (const c of socks) c.sock.destroy();
    }
  });
});

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`not true within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
