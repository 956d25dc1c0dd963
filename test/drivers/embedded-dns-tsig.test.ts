/**
 * Zone transfers of the embedded DNS server with TSIG (RFC 8945), checked with Debian's `dig -y` over real TCP on
 * loopback: with the key the transfer is answered and signed (dig verifies every message), without it REFUSED,
 * with a wrong secret or key NOTAUTH with BADSIG/BADKEY; a stale time gets a signed BADTIME. The allow-list still holds.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import * as dnsPacket from 'dns-packet';
import type { Change, RecordSet } from '../../src/domain/records.ts';
import { signMessage, splitTsig, tsigKey, tsigRecordLength, type TsigAlgorithm, type TsigKey } from '../../src/dns/tsig.ts';
import { addressMatcher, LOOPBACK } from '../../src/drivers/local/address-list.ts';
import { axfrKey } from '../../src/drivers/local/axfr-key.ts';
import { handleMessage, startEmbeddedDnsServer, type EmbeddedDnsServer, type EmbeddedDnsServerOptions } from '../../src/drivers/local/embedded-dns-server.ts';
import { localSettings } from '../../src/drivers/local/local-settings.ts';
import { ZoneStore } from '../../src/drivers/local/zone-store.ts';
import { runDaemon, waitForZones } from '../support/bind-server.ts';
import { ensurePackages } from '../support/ensure-packages.ts';
import { freePort } from '../support/ports.ts';
import { dig } from '../support/dig.ts';
import { mkdtemp, writeFile } from 'node:fs/promises';

const run = promisify(execFile);
const Z = 'tsig.test';
const create = (r: RecordSet): Change => ({ action: 'create', after: r });
const SECRET = Buffer.from('flotilla embedded server xfr key!').toString('base64');
const OTHER_SECRET = Buffer.from('not the secret the server holds..').toString('base64');
const KEY = tsigKey('xfr-key', 'hmac-sha256', SECRET);

/** `dig AXFR` from `from` with `-y alg:name:secret` (or no key); stdout and stderr together (dig reports TSIG failures on either). */
async function axfr(s: EmbeddedDnsServer, y: string | undefined, from = '127.0.0.1'): Promise<string> {
  const args = ['@127.0.0.1', '-p', String(s.port), '-b', from, ...(y ? ['-y', y] : []), Z, 'AXFR', '+time=3', '+tries=1'];
  try {
    const r = await run('dig', args, { timeout: 15_000 });
    return r.stdout + r.stderr;
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    return `${x.stdout ?? ''}${x.stderr ?? ''}`;
  }
}

const transferred = (out: string) => /IN\s+SOA[\s\S]*IN\s+TXT[\s\S]*IN\s+SOA/.test(out) && !/Transfer failed/.test(out);
const verifyFailed = /Couldn't verify|tsig verify failure|expected a TSIG/i;

function axfrQuery(id = 77): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: 0, questions: [{ name: Z, type: 'AXFR', class: 'IN' }] });
}

describe('embedded DNS server: zone transfers with TSIG', { timeout: 90_000 }, () => {
  let dir = '';
  let store: ZoneStore;
  const servers: EmbeddedDnsServer[] = [];
  const start = async (o: Partial<EmbeddedDnsServerOptions> = {}) => {
    const s = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store, rateLimit: false, ...o });
    servers.push(s);
    return s;
  };

  before(async () => {
    ensurePackages({ dig: 'dnsutils' });
    dir = mkdtempSync(join(tmpdir(), 'flotilla-dns-tsig-'));
    store = new ZoneStore(dir);
    await store.ensureZone(Z, { nsNames: [`ns1.${Z}`], soaEmail: `hostmaster@${Z}` });
    // enough data for a transfer of several messages (16 kB each), so the chained MACs are checked too
    await store.apply(Z, [
      create({ name: Z, type: 'A', ttl: 60, values: ['192.0.2.1'] }),
      ...Array.from({ length: 400 }, (_, i) => create({ name: `t${i}.${Z}`, type: 'TXT', ttl: 60, values: [`${i} ${'x'.repeat(80)}`] })),
    ]);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('with the key: the whole zone, in several messages, each signed; dig verifies them (hmac-sha256 and hmac-sha512)', async () => {
    for (const alg of ['hmac-sha256', 'hmac-sha512'] as TsigAlgorithm[]) {
      const s = await start({ axfrTsig: tsigKey('xfr-key', alg, SECRET) });
      const out = await axfr(s, `${alg}:xfr-key:${SECRET}`);
      assert.ok(transferred(out), `${alg}: ${out.slice(-600)}`);
      assert.doesNotMatch(out, verifyFailed);
      const messages = Number(/messages (\d+)/.exec(out)?.[1]);
      assert.ok(messages >= 2, `a multi-message transfer (${messages})`);
      const signatures = out.match(new RegExp(`xfr-key\\.\\s+0\\s+ANY\\s+TSIG\\s+${alg}\\. \\d+ 300 ${alg === 'hmac-sha256' ? 32 : 64} [A-Za-z0-9+/= ]+ \\d+ NOERROR`, 'g')) ?? [];
      assert.equal(signatures.length, messages, 'every message carries a TSIG');
    }
  });

  it('without a TSIG: REFUSED, nothing transferred', async () => {
    const s = await start({ axfrTsig: KEY });
    const out = await axfr(s, undefined);
    assert.match(out, /Transfer failed/);
    assert.doesNotMatch(out, /IN\s+TXT/);
    const [res] = handleMessage(store, axfrQuery(), 'tcp', undefined, { client: '127.0.0.1', axfrAllowed: addressMatcher(LOOPBACK), axfrKey: KEY });
    assert.equal((dnsPacket.decode(res).flags ?? 0) & 0xf, 5, 'REFUSED');
  });

  it('a wrong secret: NOTAUTH with an unsigned BADSIG; another key name: BADKEY', async () => {
    const s = await start({ axfrTsig: KEY });
    const bad = await axfr(s, `hmac-sha256:xfr-key:${OTHER_SECRET}`);
    assert.match(bad, /xfr-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADSIG/);
    assert.match(bad, /Transfer failed/);
    assert.doesNotMatch(bad, /IN\s+TXT/);
    const other = await axfr(s, `hmac-sha256:other-key:${SECRET}`);
    assert.match(other, /other-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADKEY/);
    assert.doesNotMatch(other, /IN\s+TXT/);
    const alg = await axfr(s, `hmac-sha512:xfr-key:${SECRET}`);
    assert.match(alg, /TSIG\s+hmac-sha512\. \d+ 300 0 \d+ BADKEY/, 'the right name with another algorithm is another key');
    const [res] = handleMessage(store, signMessage(axfrQuery(), tsigKey('xfr-key', 'hmac-sha256', OTHER_SECRET)).message, 'tcp', undefined, { client: '127.0.0.1', axfrAllowed: addressMatcher(LOOPBACK), axfrKey: KEY });
    assert.equal(res.readUInt16BE(2) & 0xf, 9, 'NOTAUTH');
  });

  it('any query signed with the key is answered signed (a secondary\'s SOA check), over UDP and TCP; a bad one NOTAUTH', async () => {
    const s = await start({ axfrTsig: KEY });
    for (const tcp of [false, true]) {
      const r = await dig(s.address, Z, 'SOA', { tcp, extra: ['-y', `hmac-sha256:xfr-key:${SECRET}`] });
      assert.equal(r.status, 'NOERROR');
      assert.equal(r.answers[0]?.type, 'SOA');
      const { stdout, stderr } = await run('dig', ['@127.0.0.1', '-p', String(s.port), ...(tcp ? ['+tcp'] : []), '-y', `hmac-sha256:xfr-key:${SECRET}`, Z, 'SOA', '+time=3', '+tries=1']);
      assert.match(stdout, /TSIG\s+hmac-sha256\. \d+ 300 32 /);
      assert.doesNotMatch(stdout + stderr, verifyFailed);
      assert.equal((await dig(s.address, Z, 'SOA', { tcp, extra: ['-y', `hmac-sha256:xfr-key:${OTHER_SECRET}`] })).status, 'NOTAUTH');
    }
    assert.equal((await dig(s.address, Z, 'SOA')).status, 'NOERROR', 'unsigned queries are answered as before');
    const q = dnsPacket.encode({ type: 'query', id: 5, flags: 0, questions: [{ name: Z, type: 'SOA', class: 'IN' }] });
    assert.equal(signMessage(q, KEY).message.length - q.length, tsigRecordLength(KEY), 'the room kept for the TSIG in a UDP answer');
  });

  it('a real BIND secondary transfers the zone with the key; with a wrong secret it gets nothing', async () => {
    ensurePackages({ named: 'bind9' });
    const s = await start({ axfrTsig: KEY });
    const secondary = async (secret: string) => {
      const d = await mkdtemp(join(tmpdir(), 'flotilla-bind-secondary-'));
      const port = await freePort('127.0.0.1');
      await writeFile(join(d, 'named.conf'), [
        `options { directory "${d}"; listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; }; pid-file "${d}/named.pid"; session-keyfile "${d}/session.key"; recursion no; notify no; dnssec-validation no; };`,
        'controls { };',
        `key "xfr-key" { algorithm hmac-sha256; secret "${secret}"; };`,
        `zone "${Z}" { type secondary; file "${d}/${Z}.zone"; primaries { 127.0.0.1 port ${s.port} key "xfr-key"; }; };`,
        '',
      ].join('\n'));
      return { daemon: runDaemon('named', ['-g', '-c', join(d, 'named.conf')], d), address: `127.0.0.1:${port}` };
    };
    const good = await secondary(SECRET);
    try {
      await waitForZones(good.address, [Z], good.daemon, 'named (secondary)', 30_000);
      const r = await dig(good.address, `t7.${Z}`, 'TXT');
      assert.equal(r.status, 'NOERROR');
      assert.match(r.answers[0]?.value ?? '', /^7 x+$/, 'a record of the embedded zone, served by BIND');
      assert.match(good.daemon.log(), /Transfer status: success/);
    } finally {
      await good.daemon.stop();
    }
    const bad = await secondary(OTHER_SECRET);
    try {
      // the refusal is in BIND's log; wait for it (a condition), then the zone must not be served
      const until = Date.now() + 30_000;
      while (!/tsig indicates error|BADSIG|tsig verify failure/i.test(bad.daemon.log()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.match(bad.daemon.log(), /tsig indicates error|BADSIG|tsig verify failure/i);
      assert.notEqual((await dig(bad.address, Z, 'SOA')).status, 'NOERROR', 'nothing transferred');
      assert.doesNotMatch(bad.daemon.log(), /Transfer status: success/);
    } finally {
      await bad.daemon.stop();
    }
  });

  it('the allow-list still applies: a signed request from an address not on it is REFUSED', async () => {
    const s = await start({ axfrTsig: KEY, axfrAllow: ['127.0.0.2/32'] });
    assert.ok(transferred(await axfr(s, `hmac-sha256:xfr-key:${SECRET}`, '127.0.0.2')));
    const out = await axfr(s, `hmac-sha256:xfr-key:${SECRET}`, '127.0.0.1');
    assert.match(out, /Transfer failed/);
    assert.doesNotMatch(out, /IN\s+TXT/);
  });

  it('a request signed outside the fudge: NOTAUTH, BADTIME, signed over the request MAC with the server time in Other Data', () => {
    const now = Date.parse('2026-12-02T12:00:00Z');
    const req = signMessage(axfrQuery(4242), KEY, { now: now - 3_600_000 });
    const [res] = handleMessage(store, req.message, 'tcp', undefined, { client: '127.0.0.1', axfrAllowed: addressMatcher(LOOPBACK), axfrKey: KEY, now: () => now });
    assert.equal(res.readUInt16BE(2) & 0xf, 9, 'NOTAUTH');
    const split = splitTsig(res)!;
    assert.equal(split.tsig.error, 18);
    assert.equal(split.tsig.timeSigned, Math.floor((now - 3_600_000) / 1000), 'Time Signed is the request\'s');
    assert.equal(split.tsig.otherData.readUIntBE(0, 6), now / 1000);
    const expected = signMessage(split.unsigned, KEY, { priorMac: req.mac, now: now - 3_600_000, error: 18, otherData: split.tsig.otherData });
    assert.deepEqual(split.tsig.mac, expected.mac, 'the BADTIME answer verifies with the key');
  });

  it('without a key configured, a signed transfer request names a key the server lacks: BADKEY', async () => {
    const s = await start();
    assert.ok(transferred(await axfr(s, undefined)), 'unsigned transfers as before');
    assert.match(await axfr(s, `hmac-sha256:xfr-key:${SECRET}`), /TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADKEY/);
  });

  it('settings: axfrTsig takes a key name, an algorithm (default hmac-sha256) and the NAME of a variable', () => {
    assert.deepEqual(localSettings.parse({ axfrTsig: { keyName: 'xfr-key', secretEnv: 'FLOTILLA_XFR_SECRET' } }).axfrTsig, { keyName: 'xfr-key', algorithm: 'hmac-sha256', secretEnv: 'FLOTILLA_XFR_SECRET' });
    const bad = localSettings.safeParse({ axfrTsig: { keyName: 'xfr key', algorithm: 'hmac-md5', secretEnv: SECRET, extra: 1 } });
    assert.ok(!bad.success);
    const paths = bad.error.issues.map((i) => i.path.join('.'));
    for (const p of ['axfrTsig.keyName', 'axfrTsig.algorithm', 'axfrTsig.secretEnv']) assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
    assert.ok(!JSON.stringify(bad.error.issues).includes(SECRET), 'a secret pasted as the variable name is not echoed');
  });

  it('the key is read from the variable; unset or not base64 is a message naming the variable, never the secret', () => {
    const s = { keyName: 'xfr-key', algorithm: 'hmac-sha256' as const, secretEnv: 'XFR_SECRET' };
    const ok = axfrKey(s, { XFR_SECRET: SECRET }).key as TsigKey;
    assert.deepEqual(ok.secret, KEY.secret);
    assert.deepEqual(axfrKey(undefined, {}), {});
    assert.match(axfrKey(s, {}).problem!, /environment variable XFR_SECRET \(TSIG secret for key xfr-key\) is not set/);
    const notB64 = axfrKey(s, { XFR_SECRET: 'not base64!' }).problem!;
    assert.match(notB64, /XFR_SECRET .* not valid base64/);
    assert.ok(!notB64.includes('not base64!'));
  });
});
