/**
 * queryDns against a real BIND9 (answers, normalisation, TCP retry on truncation) and against sockets that
 * misbehave on purpose (silence, refusal, spoofed ids, a TCP server that never answers): failures are values,
 * and the timeout bounds the whole query.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import packet from 'dns-packet';
import { queryDns } from '../../src/dns/dns-client.ts';
import { startBind, type DnsServerHandle } from '../support/bind-server.ts';
import { freePort } from '../support/ports.ts';

const Z = 'probe.test';
const LONG = 'k=rsa; p=' + 'B'.repeat(400);
const MANY = Array.from({ length: 30 }, (_, i) => `${String(i).padStart(2, '0')}-${'y'.repeat(150)}`);

describe('queryDns against BIND9', () => {
  let srv: DnsServerHandle;
  before(async () => {
    srv = await startBind({
      zones: [Z],
      extraRecords: {
        [Z]: [
          'www 60 IN A 192.0.2.1',
          'www 60 IN A 192.0.2.2',
          'v6 60 IN AAAA 2001:DB8:0:0::1',
          '@ 60 IN MX 10 Mail.Elsewhere.Test.',
          'alias 60 IN CNAME www',
          `long 60 IN TXT "${LONG.slice(0, 255)}" "${LONG.slice(255)}"`,
          ...MANY.map((v) => `many 60 IN TXT "${v}"`),
        ],
      },
    });
  });
  after(async () => {
    await srv?.stop();
  });

  it('answers an A question authoritatively over UDP', async () => {
    const r = await queryDns({ server: srv.address, name: `www.${Z}`, type: 'A', timeoutMs: 1000 });
    assert.ok(r.ok, !r.ok ? r.error : '');
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(r.authoritative, true);
    assert.equal(r.transport, 'udp');
    assert.equal(r.truncated, false);
    assert.deepEqual(r.answers.map((a) => a.value).sort(), ['192.0.2.1', '192.0.2.2']);
    assert.deepEqual(r.answers[0], { name: `www.${Z}`, type: 'A', ttl: 60, value: r.answers[0].value });
    assert.ok(r.latencyMs >= 0 && r.latencyMs < 1000);
  });

  it('normalises values: AAAA canonical, names without trailing dot, TXT strings joined', async () => {
    const v6 = await queryDns({ server: srv.address, name: `v6.${Z}`, type: 'AAAA', timeoutMs: 1000 });
    assert.deepEqual(v6.ok && v6.answers.map((a) => a.value), ['2001:db8::1']);
    const mx = await queryDns({ server: srv.address, name: Z, type: 'MX', timeoutMs: 1000 });
    assert.deepEqual(mx.ok && mx.answers.map((a) => a.value), ['10 mail.elsewhere.test']);
    const txt = await queryDns({ server: srv.address, name: `long.${Z}`, type: 'TXT', timeoutMs: 1000 });
    assert.deepEqual(txt.ok && txt.answers.map((a) => a.value), [LONG]);
    const cname = await queryDns({ server: srv.address, name: `alias.${Z}`, type: 'A', timeoutMs: 1000 });
    // the server follows the in-zone CNAME: each answer keeps its own owner name and type
    assert.deepEqual(cname.ok && cname.answers.map((a) => [a.name, a.type, a.value]).sort(), [
      [`alias.${Z}`, 'CNAME', `www.${Z}`],
      [`www.${Z}`, 'A', '192.0.2.1'],
      [`www.${Z}`, 'A', '192.0.2.2'],
    ]);
  });

  it('returns NXDOMAIN and REFUSED as values with their rcode', async () => {
    const nx = await queryDns({ server: srv.address, name: `nope.${Z}`, type: 'A', timeoutMs: 1000 });
    assert.ok(nx.ok);
    assert.equal(nx.rcode, 'NXDOMAIN');
    assert.deepEqual(nx.answers, []);
    const refused = await queryDns({ server: srv.address, name: 'not-served.example', type: 'A', timeoutMs: 1000 });
    assert.ok(refused.ok);
    assert.equal(refused.rcode, 'REFUSED');
    assert.equal(refused.authoritative, false);
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    const r = await queryDns({ server: srv.address, name: `many.${Z}`, type: 'TXT', timeoutMs: 2000 });
    assert.ok(r.ok, !r.ok ? r.error : '');
    assert.equal(r.transport, 'tcp');
    assert.equal(r.truncated, false);
    assert.deepEqual(r.answers.map((a) => a.value).sort(), [...MANY].sort());
  });

  it('asks over TCP straight away when told to', async () => {
    const r = await queryDns({ server: srv.address, name: `www.${Z}`, type: 'A', timeoutMs: 1000, tcp: true });
    assert.ok(r.ok && r.transport === 'tcp' && r.answers.length === 2);
  });
});

describe('queryDns against misbehaving servers', () => {
  const closers: (() => void)[] = [];
  after(() => closers.forEach((c) => c()));

  async function udp(onMessage: (msg: Buffer, sock: Socket, port: number, address: string) => void): Promise<string> {
    const port = await freePort();
    const sock = createSocket('udp4');
    sock.on('message', (m, r) => onMessage(m, sock, r.port, r.address));
    await new Promise<void>((res) => sock.bind(port, '127.0.0.1', () => res()));
    closers.push(() => sock.close());
    return `127.0.0.1:${port}`;
  }

  function reply(query: Buffer, opts: { id?: number; tc?: boolean; address?: string }): Buffer {
    const q = packet.decode(query);
    return packet.encode({
      type: 'response',
      id: opts.id ?? q.id,
      flags: packet.AUTHORITATIVE_ANSWER | (opts.tc ? packet.TRUNCATED_RESPONSE : 0),
      questions: q.questions,
      answers: opts.address ? [{ type: 'A', name: q.questions![0].name, ttl: 5, data: opts.address }] : [],
    });
  }

  it('a silent server is a timeout value, returned when the timeout expires', async () => {
    const server = await udp(() => {});
    const r = await queryDns({ server, name: 'www.example.test', type: 'A', timeoutMs: 200 });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : '', /timeout after 200ms/);
    assert.ok(r.latencyMs >= 195 && r.latencyMs < 400, `latency ${r.latencyMs}`);
  });

  it('the timeout bounds the whole query, TCP retry included', async () => {
    const tcpPort = await freePort();
    const hang: Server = createServer(() => {}); // accepts, never answers
    await new Promise<void>((res) => hang.listen(tcpPort, '127.0.0.1', () => res()));
    closers.push(() => hang.close());
    const sock = createSocket('udp4');
    sock.on('message', (m, r) => sock.send(reply(m, { tc: true }), r.port, r.address));
    await new Promise<void>((res) => sock.bind(tcpPort, '127.0.0.1', () => res()));
    closers.push(() => sock.close());
    const r = await queryDns({ server: `127.0.0.1:${tcpPort}`, name: 'www.example.test', type: 'A', timeoutMs: 250 });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : '', /^tcp .*timeout/);
    assert.ok(r.latencyMs >= 245 && r.latencyMs < 450, `latency ${r.latencyMs}`);
  });

  it('nothing listening is a refused value, fast', async () => {
    const r = await queryDns({ server: `127.0.0.1:${await freePort()}`, name: 'www.example.test', type: 'A', timeoutMs: 2000 });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : '', /refused/);
    assert.ok(r.latencyMs < 500, `latency ${r.latencyMs}`);
  });

  it('ignores a datagram with another id (spoofing) and takes the real answer', async () => {
    const server = await udp((m, sock, port, address) => {
      sock.send(reply(m, { id: (m.readUInt16BE(0) + 1) & 0xffff, address: '203.0.113.66' }), port, address);
      setTimeout(() => sock.send(reply(m, { address: '192.0.2.5' }), port, address), 20);
    });
    const r = await queryDns({ server, name: 'www.example.test', type: 'A', timeoutMs: 1000 });
    assert.ok(r.ok);
    assert.deepEqual(r.answers.map((a) => a.value), ['192.0.2.5']);
  });

  it('rejects an answer to another question', async () => {
    const server = await udp((m, sock, port, address) => {
      const q = packet.decode(m);
      const wrong = packet.encode({ type: 'response', id: q.id, flags: 0, questions: [{ name: 'evil.test', type: 'A' }], answers: [] });
      sock.send(wrong, port, address);
    });
    const r = await queryDns({ server, name: 'www.example.test', type: 'A', timeoutMs: 1000 });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : '', /another question/);
  });

  it('an abort signal ends the query at once, as a value', async () => {
    const server = await udp(() => {});
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const r = await queryDns({ server, name: 'www.example.test', type: 'A', timeoutMs: 5000, signal: ac.signal });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : '', /aborted/);
    assert.ok(r.latencyMs < 200, `latency ${r.latencyMs}`);
  });

  it('never throws, even for an impossible server address', async () => {
    const r = await queryDns({ server: '127.0.0.1:99999', name: 'www.example.test', type: 'A', timeoutMs: 200 });
    assert.equal(r.ok, false);
  });
});
