/**
 * Connection caps and the UDP response-rate limit are stack settings (`server.limits`, and a local provider's `tcp`
 * and `rrl`), parsed by the real schemas; a setting changes what the listeners do, and /metrics counts every
 * connection refused and every answer slipped or dropped.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { get } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { embeddedLimits } from '../../src/cli/runtime.ts';
import { fleetSchema } from '../../src/config/fleet-schema.ts';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { localSettings } from '../../src/drivers/local/local-settings.ts';
import { ZoneStore } from '../../src/drivers/local/zone-store.ts';
import { startHarness, waitFor, type Harness } from './harness.ts';
import { parsePromText } from './prom-text.ts';

const STACK = { site: { name: 's', contentDir: 'site' }, domain: 'example.test', mirrors: [{ name: 'a', provider: 'local', ipv4: '127.0.0.11' }], dnsProviders: [{ name: 'e', kind: 'local', settings: {} }] };

interface Conn { sock: Socket; closed: boolean }
function open(port: number, localAddress: string): Promise<Conn> {
  return new Promise((resolve) => {
    const c: Conn = { sock: connect({ host: '127.0.0.1', port, localAddress }), closed: false };
    c.sock.on('error', () => undefined);
    c.sock.once('close', () => { c.closed = true; resolve(c); });
    c.sock.once('connect', () => resolve(c));
  });
}

async function metric(h: Harness, name: string, labels: Record<string, string>): Promise<number | undefined> {
  // no keep-alive: the scrape must not hold a connection the caps under test would count
  const text = await new Promise<string>((resolve, reject) => {
    get(`${h.url}/metrics`, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
  const fam = parsePromText(text).get(name);
  return fam?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('limits as stack settings, counted in /metrics', { timeout: 60_000 }, () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  after(async () => { for (const f of cleanup.reverse()) await f(); });

  it('server.limits.perClient: 2 resets the 3rd connection from one client; the refusal is counted per port', async () => {
    const { server } = fleetSchema.parse({ ...STACK, server: { limits: { perClient: 2, connections: 10, eventStreamsPerClient: 1 } } });
    assert.equal(server.limits.perClient, 2);
    assert.equal(fleetSchema.parse(STACK).server.limits.perClient, 32, 'the default is the old constant');
    const h = await startHarness({ spec: { server: { ...server, port: 0 } } });
    cleanup.push(() => h.close());
    const conns = [await open(h.server.port, '127.0.0.66'), await open(h.server.port, '127.0.0.66')];
    const third = await open(h.server.port, '127.0.0.66');
    cleanup.push(() => { for (const c of [...conns, third]) c.sock.destroy(); });
    await waitFor('the 3rd connection reset', () => third.closed);
    assert.ok(!conns[0].closed && !conns[1].closed);
    assert.equal(h.server.connections().refused, 1);
    assert.equal(await metric(h, 'flotilla_connections_refused_total', { listener: 'http', port: String(h.server.port) }), 1);
    for (const c of conns) c.sock.destroy();
    await waitFor('connections released', () => h.server.connections().open === 0);

    // eventStreamsPerClient: 1 answers a second stream from the same client 503, counted under event-stream
    const stream = async () => {
      const c = await open(h.server.port, '127.0.0.1');
      let head = '';
      c.sock.on('data', (d) => (head += String(d)));
      c.sock.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor('an answer', () => head.includes('\r\n') || c.closed);
      return { c, status: head.split('\r\n')[0] };
    };
    const first = await stream();
    const second = await stream();
    assert.equal(first.status, 'HTTP/1.1 200 OK');
    assert.equal(second.status, 'HTTP/1.1 503 Service Unavailable');
    first.c.sock.destroy();
    second.c.sock.destroy();
    await waitFor('streams closed (perClient 2 leaves no room for the scrape otherwise)', () => h.server.connections().open === 0);
    assert.equal(await metric(h, 'flotilla_connections_refused_total', { listener: 'event-stream', port: String(h.server.port) }), 1);
  });

  it('a local provider\'s tcp.perClient and rrl settings cap DNS TCP and slip UDP answers; both are counted', async () => {
    const settings = localSettings.parse({ tcp: { perClient: 2, connections: 4, idleTimeout: '30s' }, rrl: { responsesPerSecond: 1, slip: 1, exempt: [] } });
    assert.deepEqual(localSettings.parse({}).tcp, { connections: 64, perClient: 8, idleTimeout: '10s' }, 'defaults are the old constants');
    assert.deepEqual(localSettings.parse({}).rrl, { responsesPerSecond: 20, slip: 2 });
    assert.equal(localSettings.safeParse({ rrl: { responsesPerSecond: 0 } }).success, false, 'bounded');
    const store = new ZoneStore(mkdtempSync(join(tmpdir(), 'flotilla-limits-')));
    await store.ensureZone('example.test', { nsNames: ['ns1.example.test'], soaEmail: 'hostmaster@example.test' });
    const dns: EmbeddedDnsServer = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store, ...embeddedLimits(settings) });
    cleanup.push(() => dns.close());
    const h = await startHarness({ server: { dnsServers: () => [dns] } });
    cleanup.push(() => h.close());

    const conns = [await open(dns.port, '127.0.0.67'), await open(dns.port, '127.0.0.67')];
    const third = await open(dns.port, '127.0.0.67');
    cleanup.push(() => { for (const c of [...conns, third]) c.sock.destroy(); });
    await waitFor('the 3rd DNS TCP connection reset', () => third.closed);
    assert.equal(dns.stats().tcpRefused, 1);
    assert.equal(await metric(h, 'flotilla_connections_refused_total', { listener: 'dns-tcp', port: String(dns.port) }), 1);

    // 5 queries at once, 1 answer a second allowed, slip 1: every answer over the limit goes out truncated
    const sock = createSocket('udp4');
    cleanup.push(() => { sock.close(); });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.68', r));
    const got: dnsPacket.DecodedPacket[] = [];
    sock.on('message', (m) => got.push(dnsPacket.decode(m)));
    for (let i = 0; i < 5; i++) sock.send(dnsPacket.encode({ type: 'query', id: i + 1, flags: 0, questions: [{ name: 'example.test', type: 'SOA', class: 'IN' }] }), dns.port, '127.0.0.1');
    await waitFor('5 answers', () => got.length === 5);
    const truncated = got.filter((p) => ((p.flags ?? 0) & (1 << 9)) !== 0).length;
    assert.ok(truncated >= 1, 'answers over the limit were slipped');
    assert.equal(dns.stats().udpSlipped, truncated);
    assert.equal(await metric(h, 'flotilla_dns_udp_limited_total', { port: String(dns.port), action: 'slipped' }), truncated);
    assert.equal(await metric(h, 'flotilla_dns_udp_limited_total', { port: String(dns.port), action: 'dropped' }), 0);
  });
});
