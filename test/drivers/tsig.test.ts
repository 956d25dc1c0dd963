/**
 * TSIG (RFC 8945) signing and verification: pure round trips and tampering, interoperability with `dig -y`
 * (its requests verify here, our responses verify there), and real BIND9 and Knot servers accepting our
 * signatures, rejecting bad ones, and signing multi-message zone transfers we verify message by message.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import packet from 'dns-packet';
import { parseEndpoint } from '../../src/dns/endpoint.ts';
import { exchangeTcp, exchangeUdp } from '../../src/dns/transport.ts';
import { signedExchange } from '../../src/drivers/rfc2136/signed-exchange.ts';
import { ResponseVerifier, signMessage, splitTsig, tsigKey, verifyRequest, type TsigAlgorithm, type TsigKey } from '../../src/dns/tsig.ts';
import { OPCODE_QUERY, TYPE_AXFR, TYPE_SOA, encodeMessage, layout } from '../../src/dns/wire.ts';
import { recordSetsFromTransfer } from '../../src/drivers/rfc2136/zone-records.ts';
import { startBind, type DnsServerHandle } from '../support/bind-server.ts';
import { ensurePackages } from '../support/ensure-packages.ts';
import { startKnot } from '../support/knot-server.ts';
import { freePort } from '../support/ports.ts';

const run = promisify(execFile);
const ALGORITHMS: TsigAlgorithm[] = ['hmac-sha256', 'hmac-sha512', 'hmac-sha1'];

function newKey(algorithm: TsigAlgorithm = 'hmac-sha256', name = 'test-key'): TsigKey {
  return tsigKey(name, algorithm, randomBytes(32).toString('base64'));
}

function query(name: string, type: number, id = 4242): Buffer {
  return encodeMessage({ id, opcode: OPCODE_QUERY, question: { name, type } });
}

/** An answer to `request` (unsigned) with one A record per address, as a server would build it. */
function answer(request: Buffer, addresses: string[]): Buffer {
  const q = packet.decode(request);
  return packet.encode({
    type: 'response',
    id: q.id,
    flags: packet.AUTHORITATIVE_ANSWER,
    questions: q.questions,
    answers: addresses.map((a) => ({ type: 'A' as const, name: q.questions![0].name, ttl: 60, data: a })),
  });
}

describe('TSIG sign and verify (pure)', () => {
  for (const alg of ALGORITHMS) {
    it(`${alg}: a signed request verifies, with the MAC length of the hash`, () => {
      const key = newKey(alg);
      const { message, mac } = signMessage(query('example.test', TYPE_SOA), key);
      assert.equal(mac.length, { 'hmac-sha256': 32, 'hmac-sha512': 64, 'hmac-sha1': 20 }[alg]);
      const v = verifyRequest(message, key);
      assert.ok(v.ok, v.reason);
      assert.deepEqual(v.tsig?.mac, mac);
      assert.equal(layout(message).sections.additionals.length, 1);
    });
  }

  it('splitTsig gives back the message exactly as it was before signing', () => {
    const original = query('example.test', TYPE_SOA, 777);
    const split = splitTsig(signMessage(original, newKey()).message);
    assert.deepEqual(split?.unsigned, original);
    assert.equal(split?.tsig.originalId, 777);
    assert.equal(splitTsig(original), undefined);
  });

  it('any flipped bit in the message, a wrong secret, a wrong key name or a stale time fails', () => {
    const key = newKey();
    const { message } = signMessage(query('example.test', TYPE_SOA), key);
    // bytes 0-1 (the ID) are not covered on purpose: the digest uses the original ID kept inside the TSIG record
    for (const at of [2, 3, 5, 11, 14, message.length - 40, message.length - 7]) {
      const bad = Buffer.from(message);
      bad[at] ^= 0x01;
      const v = (() => {
        try {
          return verifyRequest(bad, key);
        } catch {
          return { ok: false };
        }
      })();
      assert.equal(v.ok, false, `flipping byte ${at} went unnoticed`);
    }
    assert.equal(verifyRequest(message, { ...key, secret: randomBytes(32) }).ok, false);
    assert.equal(verifyRequest(message, { ...key, name: 'other-key' }).ok, false);
    assert.equal(verifyRequest(message, { ...key, algorithm: 'hmac-sha512' }).ok, false);
    const stale = signMessage(query('example.test', TYPE_SOA), key, { now: Date.now() - 3_600_000 }).message;
    assert.match(verifyRequest(stale, key).reason ?? '', /BADTIME/);
    assert.ok(verifyRequest(stale, key, { now: Date.now() - 3_600_000 }).ok);
  });

  it('a multi-message response chains the prior MAC; unsigned middles are covered by the next signature', () => {
    const key = newKey();
    const req = signMessage(query('example.test', TYPE_AXFR), key);
    const bodies = [answer(req.message, ['192.0.2.1']), answer(req.message, ['192.0.2.2']), answer(req.message, ['192.0.2.3']), answer(req.message, ['192.0.2.4'])];
    // message 1 signed over the request MAC, 2 left unsigned, 3 signed over 2+3, 4 signed: as RFC 8945 §5.3.1 allows
    const m1 = signMessage(bodies[0], key, { priorMac: req.mac });
    const m3 = signMessage(Buffer.concat([bodies[1], bodies[2]]), key, { priorMac: m1.mac, subsequent: true });
    // the digest of m3 covers bodies[1] + bodies[2]; the wire message is bodies[2] with that MAC
    const m3wire = Buffer.concat([bodies[2], m3.message.subarray(bodies[1].length + bodies[2].length)]);
    m3wire.writeUInt16BE(1, 10);
    const m4 = signMessage(bodies[3], key, { priorMac: m3.mac, subsequent: true });
    const stream = [m1.message, bodies[1], m3wire, m4.message];

    const good = new ResponseVerifier(key, req.mac);
    assert.deepEqual(stream.map((m) => good.verify(m).ok), [true, true, true, true]);
    assert.ok(good.finish().ok);

    const tampered = stream.map((m) => Buffer.from(m));
    tampered[1][tampered[1].length - 1] ^= 1; // the unsigned message's last address byte
    const v2 = new ResponseVerifier(key, req.mac);
    assert.deepEqual(tampered.map((m) => v2.verify(m).ok), [true, true, false, false]);

    const reordered = new ResponseVerifier(key, req.mac);
    assert.deepEqual([m1.message, m4.message].map((m) => reordered.verify(m).ok), [true, false]);

    const cut = new ResponseVerifier(key, req.mac);
    assert.deepEqual([m1.message, bodies[1]].map((m) => cut.verify(m).ok), [true, true]);
    assert.equal(cut.finish().ok, false, 'a transfer whose last message is unsigned must not verify');

    const otherRequest = new ResponseVerifier(key, signMessage(query('example.test', TYPE_AXFR, 4243), key).mac);
    assert.equal(otherRequest.verify(m1.message).ok, false, 'a response to another request must not verify');
  });

  it('rejects secrets that are not base64, without echoing them', () => {
    assert.throws(() => tsigKey('k', 'hmac-sha256', 'not base64!'), (e: Error) => !e.message.includes('not base64!'));
    assert.throws(() => tsigKey('k', 'hmac-sha256', ''));
  });
});

describe('TSIG interoperability with dig -y', () => {
  before(() => ensurePackages({ dig: 'bind9-dnsutils' }));

  for (const alg of ALGORITHMS) {
    it(`${alg}: dig's signed query verifies here and our signed answer verifies in dig`, async () => {
      const key = newKey(alg, 'interop-key');
      const port = await freePort();
      const sock = createSocket('udp4');
      const verdicts: boolean[] = [];
      sock.on('message', (msg, rinfo) => {
        const v = verifyRequest(msg, key);
        verdicts.push(v.ok);
        if (!v.ok) return;
        const signed = signMessage(answer(msg, ['192.0.2.99']), key, { priorMac: v.tsig!.mac });
        sock.send(signed.message, rinfo.port, rinfo.address);
      });
      await new Promise<void>((res) => sock.bind(port, '127.0.0.1', () => res()));
      try {
        const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '-y', `${alg}:interop-key:${key.secret.toString('base64')}`, 'www.example.test', 'A', '+norec', '+time=2', '+tries=1'], { timeout: 10_000 });
        assert.deepEqual(verdicts, [true]);
        assert.match(stdout, /status: NOERROR/);
        assert.match(stdout, /www\.example\.test\.\s+60\s+IN\s+A\s+192\.0\.2\.99/);
        assert.doesNotMatch(stdout, /Couldn't verify|tsig verify failure|BADSIG/i, stdout);
        assert.match(stdout, /TSIG PSEUDOSECTION/);
      } finally {
        sock.close();
      }
    });
  }

  it('dig refuses our answer when it is signed with another secret (the test can fail)', async () => {
    const key = newKey('hmac-sha256', 'interop-key');
    const port = await freePort();
    const sock = createSocket('udp4');
    sock.on('message', (msg, rinfo) => {
      const v = verifyRequest(msg, key);
      const signed = signMessage(answer(msg, ['192.0.2.99']), { ...key, secret: randomBytes(32) }, { priorMac: v.tsig!.mac });
      sock.send(signed.message, rinfo.port, rinfo.address);
    });
    await new Promise<void>((res) => sock.bind(port, '127.0.0.1', () => res()));
    try {
      const r = await run('dig', ['@127.0.0.1', '-p', String(port), '-y', `hmac-sha256:interop-key:${key.secret.toString('base64')}`, 'www.example.test', 'A', '+norec', '+time=2', '+tries=1'], { timeout: 10_000 }).then(
        (x) => x.stdout + x.stderr,
        (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`,
      );
      assert.match(r, /Couldn't verify|tsig verify failure|BADSIG/i, r);
    } finally {
      sock.close();
    }
  });
});

const BIG_RECORDS = Array.from({ length: 1200 }, (_, i) => `r${i} 300 IN TXT "${String(i).padStart(4, '0')}-${'x'.repeat(200)}"`);

for (const [label, start, zone] of [['BIND9', startBind, 'big.test'], ['Knot', startKnot, 'big.test']] as const) {
  describe(`TSIG against a real server (${label})`, () => {
    let srv: DnsServerHandle;
    let key: TsigKey;
    before(async () => {
      srv = await start({
        zones: [zone],
        extraKeys: [{ name: 'sha512-key', algorithm: 'hmac-sha512' }, { name: 'sha1-key', algorithm: 'hmac-sha1' }],
        extraRecords: { [zone]: BIG_RECORDS },
      });
      key = tsigKey(srv.keyName, 'hmac-sha256', srv.secret);
    });
    after(async () => {
      await srv?.stop();
    });

    for (const alg of ALGORITHMS) {
      it(`accepts our ${alg} signature and signs its answer so that it verifies`, async () => {
        const k = srv.keys.find((x) => x.algorithm === alg)!;
        const a = await signedExchange(query(zone, TYPE_SOA, 1234), {
          endpoint: parseEndpoint(srv.address), key: tsigKey(k.name, alg, k.secret), timeoutMs: 2000, tcp: false,
        });
        assert.equal(a.rcode, 0);
        assert.ok(a.verified, a.reason);
        assert.equal(splitTsig(a.messages[0])?.tsig.algorithm, alg);
      });
    }

    it('answers BADSIG to a tampered MAC and BADKEY to an unknown key, unsigned', async () => {
      const ep = parseEndpoint(srv.address);
      const signed = signMessage(query(zone, TYPE_SOA, 99), key);
      const tampered = Buffer.from(signed.message);
      tampered[tampered.length - 10] ^= 0xff; // inside the MAC
      const r1 = splitTsig(await exchangeUdp(ep, tampered, { timeoutMs: 2000 }));
      assert.equal(r1?.tsig.error, 16, 'BADSIG');
      assert.equal(r1?.tsig.mac.length, 0);
      const stranger = signMessage(query(zone, TYPE_SOA, 98), newKey('hmac-sha256', 'stranger-key'));
      const raw2 = await exchangeUdp(ep, stranger.message, { timeoutMs: 2000 });
      assert.equal(layout(raw2).rcode, 9, 'NOTAUTH');
      assert.equal(splitTsig(raw2)?.tsig.error, 17, 'BADKEY');
    });

    it('answers BADTIME to a request signed an hour ago', async () => {
      const stale = signMessage(query(zone, TYPE_SOA, 97), key, { now: Date.now() - 3_600_000 });
      const raw = await exchangeUdp(parseEndpoint(srv.address), stale.message, { timeoutMs: 2000 });
      assert.equal(splitTsig(raw)?.tsig.error, 18, 'BADTIME');
    });

    it('signs a multi-message AXFR; each message verifies against the chained MAC, tampering is caught', async () => {
      const req = signMessage(query(zone, TYPE_AXFR, 4321), key);
      let soas = 0;
      const messages = await exchangeTcp(parseEndpoint(srv.address), req.message, {
        timeoutMs: 5000,
        isLast: (m) => (soas += layout(m).sections.answers.filter((r) => r.type === TYPE_SOA).length) >= 2,
      });
      assert.ok(messages.length >= 3, `expected a multi-message transfer, got ${messages.length} message(s)`);
      const v = new ResponseVerifier(key, req.mac);
      const verdicts = messages.map((m) => v.verify(m));
      assert.ok(verdicts.every((x) => x.ok), verdicts.map((x) => x.reason).join(', '));
      assert.ok(v.finish().ok);
      const sets = recordSetsFromTransfer(messages, zone);
      assert.equal(sets.filter((r) => r.type === 'TXT').length, BIG_RECORDS.length);

      // flip one byte of record data in the second message: it (or the next signed one) must fail
      const bad = messages.map((m) => Buffer.from(m));
      bad[1][layout(bad[1]).sections.answers[0].end - 1] ^= 0x01;
      const v2 = new ResponseVerifier(key, req.mac);
      const okays = bad.map((m) => v2.verify(m).ok);
      assert.equal(okays[0], true);
      assert.ok(okays.slice(1).includes(false) || !v2.finish().ok, 'a tampered message went unnoticed');

      // a message dropped from the middle breaks the chain
      const v3 = new ResponseVerifier(key, req.mac);
      const dropped = [messages[0], ...messages.slice(2)].map((m) => v3.verify(m).ok);
      assert.ok(dropped.includes(false) || !v3.finish().ok, 'a dropped message went unnoticed');
    });
  });
}
