/** The embedded authoritative DNS server, checked with Debian's `dig` over real UDP and TCP sockets. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Change, RecordSet } from '../../src/domain/records.ts';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from '../../src/drivers/local/embedded-dns-server.ts';
import { ZoneStore } from '../../src/drivers/local/zone-store.ts';
import { dig, digValues } from '../support/dig.ts';
import { ensurePackages } from '../support/ensure-packages.ts';

const run = promisify(execFile);
const Z = 'example.test';
const create = (r: RecordSet): Change => ({ action: 'create', after: r });

/** dig's sections we need beyond test/support/dig.ts: the authority section and the raw text. */
async function digRaw(server: EmbeddedDnsServer, args: string[]): Promise<{ stdout: string; authority: string[] }> {
  const { stdout } = await run('dig', [`@127.0.0.1`, '-p', String(server.port), '+norec', '+time=2', '+tries=1', ...args], { timeout: 10_000 });
  const section = stdout.split(';; AUTHORITY SECTION:')[1]?.split('\n\n')[0] ?? '';
  return { stdout, authority: section.split('\n').map((l) => l.trim()).filter(Boolean) };
}

async function soaSerial(server: EmbeddedDnsServer): Promise<number> {
  const [soa] = await digValues(server.address, Z, 'SOA');
  assert.ok(soa, 'no SOA answered');
  return Number(soa.split(/\s+/)[2]);
}

async function eventually(check: () => Promise<boolean>, withinMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > withinMs) assert.fail(`not true within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('embedded DNS server', () => {
  let dir = '';
  let store: ZoneStore;
  let server: EmbeddedDnsServer;
  const many = Array.from({ length: 100 }, (_, i) => `198.51.100.${i + 1}`);

  before(async () => {
    ensurePackages({ dig: 'dnsutils' });
    dir = mkdtempSync(join(tmpdir(), 'flotilla-embedded-'));
    store = new ZoneStore(dir);
    await store.ensureZone(Z, { nsNames: ['ns1.example.test'], soaEmail: 'hostmaster@example.test' });
    await store.apply(Z, [
      create({ name: Z, type: 'A', ttl: 60, values: ['192.0.2.1', '192.0.2.2'] }),
      create({ name: `www.${Z}`, type: 'CNAME', ttl: 60, values: [`web.${Z}`] }),
      create({ name: `web.${Z}`, type: 'A', ttl: 60, values: ['192.0.2.10'] }),
      create({ name: `web.${Z}`, type: 'AAAA', ttl: 60, values: ['2001:db8::10'] }),
      create({ name: `dangling.${Z}`, type: 'CNAME', ttl: 60, values: [`missing.${Z}`] }),
      create({ name: `out.${Z}`, type: 'CNAME', ttl: 60, values: ['elsewhere.example.org'] }),
      create({ name: `txt.${Z}`, type: 'TXT', ttl: 60, values: ['hello world', 'v=spf1 -all'] }),
      create({ name: `long.${Z}`, type: 'TXT', ttl: 60, values: ['x'.repeat(600)] }),
      create({ name: `deep.a.b.${Z}`, type: 'A', ttl: 60, values: ['192.0.2.99'] }),
      create({ name: `many.${Z}`, type: 'A', ttl: 60, values: many }),
      create({ name: Z, type: 'MX', ttl: 60, values: [`10 mail.${Z}`] }),
    ]);
    server = await startEmbeddedDnsServer({ listen: '127.0.0.1', port: 0, store });
  });

  after(async () => {
    await server?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the port it picked', () => {
    assert.ok(server.port > 0);
    assert.equal(server.address, `127.0.0.1:${server.port}`);
  });

  it('answers A, AAAA, TXT and MX authoritatively', async () => {
    const a = await dig(server.address, Z, 'A');
    assert.equal(a.status, 'NOERROR');
    assert.ok(a.flags.includes('aa'), `flags ${a.flags}`);
    assert.deepEqual(a.answers.map((x) => x.value).sort(), ['192.0.2.1', '192.0.2.2']);
    assert.equal(a.answers[0].ttl, 60);
    assert.deepEqual(await digValues(server.address, `web.${Z}`, 'AAAA'), ['2001:db8::10']);
    assert.deepEqual(await digValues(server.address, `txt.${Z}`, 'TXT'), ['hello world', 'v=spf1 -all']);
    assert.deepEqual(await digValues(server.address, `long.${Z}`, 'TXT'), ['x'.repeat(600)]);
    assert.deepEqual(await digValues(server.address, Z, 'MX'), [`10 mail.${Z}`]);
    assert.deepEqual(await digValues(server.address, Z, 'NS'), [`ns1.${Z}`]);
  });

  it('chases a CNAME inside the zone', async () => {
    const r = await dig(server.address, `www.${Z}`, 'A');
    assert.equal(r.status, 'NOERROR');
    assert.deepEqual(r.answers.map((x) => `${x.name} ${x.type} ${x.value}`), [`www.${Z} CNAME web.${Z}`, `web.${Z} A 192.0.2.10`]);
    const out = await dig(server.address, `out.${Z}`, 'A');
    assert.deepEqual(out.answers.map((x) => x.type), ['CNAME'], 'a target outside the zone is not chased');
    const dangling = await dig(server.address, `dangling.${Z}`, 'A');
    assert.equal(dangling.status, 'NXDOMAIN', 'the rcode is that of the end of the chain (RFC 6604)');
    assert.deepEqual(dangling.answers.map((x) => x.type), ['CNAME']);
  });

  it('NXDOMAIN for a missing name, with the SOA in authority', async () => {
    const r = await digRaw(server, [`nope.${Z}`, 'A']);
    assert.match(r.stdout, /status: NXDOMAIN/);
    assert.match(r.stdout, /flags: qr aa;/);
    assert.equal(r.authority.length, 1);
    assert.match(r.authority[0], /^example\.test\.\s+60\s+IN\s+SOA\s+ns1\.example\.test\. hostmaster\.example\.test\. \d+ /);
  });

  it('NODATA (NOERROR, no answer, SOA in authority) for a missing type and for an empty non-terminal', async () => {
    for (const [name, type] of [[`txt.${Z}`, 'A'], [`b.${Z}`, 'A'], [`a.b.${Z}`, 'TXT']]) {
      const r = await digRaw(server, [name, type]);
      assert.match(r.stdout, /status: NOERROR/, `${name} ${type}`);
      assert.match(r.stdout, /ANSWER: 0,/, `${name} ${type}`);
      assert.match(r.stdout, /flags: qr aa;/);
      assert.equal(r.authority.length, 1);
      assert.match(r.authority[0], /IN\s+SOA/);
    }
  });

  it('REFUSED for a name outside its zones, without the AA flag', async () => {
    const r = await dig(server.address, 'www.example.org', 'A');
    assert.equal(r.status, 'REFUSED');
    assert.ok(!r.flags.includes('aa'));
    assert.equal((await dig(server.address, 'test', 'SOA')).status, 'REFUSED');
  });

  it('sets TC over UDP when the answer is too big, and answers in full over TCP', async () => {
    const udp = await dig(server.address, `many.${Z}`, 'A', { extra: ['+ignore'] });
    assert.ok(udp.flags.includes('tc'), `flags ${udp.flags}`);
    assert.equal(udp.answers.length, 0);
    const tcp = await dig(server.address, `many.${Z}`, 'A', { tcp: true });
    assert.ok(!tcp.flags.includes('tc'));
    assert.deepEqual(tcp.answers.map((a) => a.value).sort(), [...many].sort());
    // dig's default falls back to TCP on TC by itself
    assert.equal((await digValues(server.address, `many.${Z}`, 'A')).length, 100);
  });

  it('honours the client EDNS size, and 512 bytes without EDNS', async () => {
    // 2 x 600 bytes of TXT: fits dig's default 1232, not 512 without EDNS
    await store.apply(Z, [create({ name: `mid.${Z}`, type: 'TXT', ttl: 60, values: ['y'.repeat(300), 'z'.repeat(300)] })]);
    const edns = await dig(server.address, `mid.${Z}`, 'TXT', { extra: ['+ignore'] });
    assert.ok(!edns.flags.includes('tc'), `flags ${edns.flags}`);
    assert.equal(edns.answers.length, 2);
    const noedns = await dig(server.address, `mid.${Z}`, 'TXT', { extra: ['+ignore', '+noedns'] });
    assert.ok(noedns.flags.includes('tc'), `flags ${noedns.flags}`);
    const small = await dig(server.address, `many.${Z}`, 'A', { extra: ['+ignore', '+bufsize=600'] });
    assert.ok(small.flags.includes('tc'));
  });

  it('transfers the zone over TCP (AXFR)', async () => {
    const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(server.port), Z, 'AXFR', '+time=2', '+tries=1'], { timeout: 10_000 });
    const lines = stdout.split('\n').filter((l) => l && !l.startsWith(';'));
    assert.match(lines[0], /\tSOA\t/);
    assert.match(lines[lines.length - 1], /\tSOA\t/);
    assert.ok(lines.some((l) => /^web\.example\.test\.\s+60\s+IN\s+AAAA\s+2001:db8::10$/.test(l)), stdout);
  });

  it('bumps the SOA serial on every change and answers the change on the next query', async () => {
    const s1 = await soaSerial(server);
    await store.apply(Z, [create({ name: `fresh.${Z}`, type: 'A', ttl: 30, values: ['192.0.2.77'] })]);
    assert.deepEqual(await digValues(server.address, `fresh.${Z}`, 'A'), ['192.0.2.77']);
    assert.equal(await soaSerial(server), s1 + 1);
    await store.apply(Z, [{ action: 'update', before: { name: `fresh.${Z}`, type: 'A', ttl: 30, values: ['192.0.2.77'] }, after: { name: `fresh.${Z}`, type: 'A', ttl: 30, values: ['192.0.2.78'] } }]);
    assert.deepEqual(await digValues(server.address, `fresh.${Z}`, 'A'), ['192.0.2.78']);
    assert.equal(await soaSerial(server), s1 + 2);
  });

  it('picks up a change written by another ZoneStore on the same directory promptly', async () => {
    const other = new ZoneStore(dir);
    try {
      const s0 = await soaSerial(server);
      await other.apply(Z, [create({ name: `other.${Z}`, type: 'A', ttl: 30, values: ['203.0.113.5'] })]);
      // promptly: within pollMs (250 ms) when no watch event arrives; 5 s leaves room for a loaded machine
      await eventually(async () => (await digValues(server.address, `other.${Z}`, 'A')).join() === '203.0.113.5', 5000);
      assert.equal(await soaSerial(server), s0 + 1);
      // a zone created elsewhere is served too
      await other.ensureZone('second.test');
      await eventually(async () => (await dig(server.address, 'second.test', 'SOA')).status === 'NOERROR', 1000);
    } finally {
      other.close();
    }
  });

  it('picks up a change written by another process', async () => {
    const script = [
      `import { ZoneStore } from ${JSON.stringify(new URL('../../src/drivers/local/zone-store.ts', import.meta.url).pathname)};`,
      `const s = new ZoneStore(${JSON.stringify(dir)});`,
      `await s.apply('${Z}', [{ action: 'create', after: { name: 'proc.${Z}', type: 'A', ttl: 30, values: ['203.0.113.9'] } }]);`,
      `s.close();`,
    ].join('\n');
    await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000 });
    await eventually(async () => (await digValues(server.address, `proc.${Z}`, 'A')).join() === '203.0.113.9', 1000);
  });

  it('keeps serving the last good zone when a file on disk is corrupt', async () => {
    const before = await digValues(server.address, Z, 'A');
    writeFileSync(join(dir, 'second.test.json'), '{ not json');
    writeFileSync(join(dir, `${Z}.json`), '{ not json');
    // a zone written after the corrupt files: once it is served, the server has read the directory past them
    const other = new ZoneStore(dir);
    try {
      await other.ensureZone('sentinel.test');
    } finally {
      other.close();
    }
    await eventually(async () => (await dig(server.address, 'sentinel.test', 'SOA')).status === 'NOERROR', 10_000);
    assert.deepEqual(await digValues(server.address, Z, 'A'), before);
    assert.equal((await dig(server.address, 'second.test', 'SOA')).status, 'NOERROR', 'the last good second.test is still served');
  });
});
