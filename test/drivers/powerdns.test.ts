/** The PowerDNS driver against a real pdns_server (sqlite backend) over its HTTP API: the shared conformance suite. */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { DriverError } from '../../src/domain/errors.ts';
import type { PowerdnsSettings } from '../../src/drivers/powerdns/powerdns-settings.ts';
import type { Change, RecordSet } from '../../src/domain/records.ts';
import { createPowerdnsDriver, type PowerdnsDriverOptions } from '../../src/drivers/powerdns/powerdns-driver.ts';
import { quoteTxt, unquoteTxt } from '../../src/drivers/powerdns/pdns-content.ts';
import { digValues } from '../support/dig.ts';
import { startPdnsServer, type PdnsServer } from '../support/pdns-server.ts';
import { conformanceSuite } from './conformance.ts';

const zone = 'conformance.test';
const KEY_ENV = 'PDNS_TEST_API_KEY';
let pdns: PdnsServer | undefined;

function driverFor(server: PdnsServer, apiKey: string, opts?: PowerdnsDriverOptions) {
  const settings: PowerdnsSettings = { url: server.apiUrl, apiKeyEnv: KEY_ENV, serverId: server.serverId, nameservers: [server.dnsAddress] };
  return createPowerdnsDriver({ name: 'pdns-test', settings, env: { [KEY_ENV]: apiKey } }, opts);
}

/** Writes an RRset straight through the API with plain fetch, as another tool would. */
async function patchDirect(server: PdnsServer, r: RecordSet): Promise<void> {
  const res = await fetch(`${server.apiUrl}/api/v1/servers/${server.serverId}/zones/${zone}.`, {
    method: 'PATCH',
    headers: { 'X-API-Key': server.apiKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      rrsets: [{ name: `${r.name}.`, type: r.type, ttl: r.ttl, changetype: 'REPLACE', records: r.values.map((v) => ({ content: r.type === 'TXT' ? `"${v}"` : v, disabled: false })) }],
    }),
  });
  assert.equal(res.status, 204, await res.text());
}

conformanceSuite({
  label: 'powerdns (pdns_server, gsqlite3)',
  kind: 'powerdns',
  zone,
  missingZone: 'absent.test',
  async setup() {
    pdns = await startPdnsServer({ zones: [zone] });
  },
  async teardown() {
    await pdns?.stop();
  },
  driver: () => driverFor(pdns!, pdns!.apiKey),
  seedForeign: (r) => patchDirect(pdns!, r),
  query: (name, type) => digValues(pdns!.dnsAddress, name, type),
  badCredentialsDriver: () => driverFor(pdns!, 'wrong-key-0123456789'),
  secrets: () => [pdns!.apiKey, 'wrong-key-0123456789'],
});

describe('powerdns driver specifics (real server)', () => {
  let server: PdnsServer;
  before(async () => {
    server = await startPdnsServer({ zones: ['batch.test'] });
  });
  after(async () => {
    await server?.stop();
  });

  it('splits a change set into PATCHes of maxBatch RRsets, each applied', async () => {
    const d = driverFor(server, server.apiKey, { maxBatch: 50 });
    const changes: Change[] = Array.from({ length: 120 }, (_, i) => ({
      action: 'create',
      after: { name: `h${i}.batch.test`, type: 'A', ttl: 60, values: [`10.1.${i >> 8}.${i & 255}`] },
    }));
    const report = await d.applyChanges('batch.test', changes);
    assert.deepEqual({ applied: report.applied, requests: report.requests }, { applied: 120, requests: 3 });
    assert.equal((await d.listRecords('batch.test')).filter((r) => r.name.endsWith('.batch.test') && r.type === 'A').length, 120);
  });

  it('round-trips long and non-ASCII TXT, MX and CNAME values', async () => {
    const d = driverFor(server, server.apiKey);
    const want: RecordSet[] = [
      { name: 'txt.batch.test', type: 'TXT', ttl: 60, values: [`${'a'.repeat(300)} "quoted" \\ ünïcødé`] },
      { name: 'batch.test', type: 'MX', ttl: 60, values: ['10 mail.batch.test'] },
      { name: 'alias.batch.test', type: 'CNAME', ttl: 60, values: ['h1.batch.test'] },
    ];
    await d.applyChanges('batch.test', want.map((after) => ({ action: 'create', after })));
    const got = await d.listRecords('batch.test');
    for (const w of want) assert.deepEqual(got.find((r) => r.name === w.name && r.type === w.type), w);
    assert.deepEqual(await digValues(server.dnsAddress, 'alias.batch.test', 'CNAME'), ['h1.batch.test']);
  });

  it('an invalid change is a typed, non-retryable error naming the zone', async () => {
    const d = driverFor(server, server.apiKey);
    await assert.rejects(d.applyChanges('batch.test', [{ action: 'create', after: { name: 'x.other.test', type: 'A', ttl: 60, values: ['192.0.2.1'] } }]), (e: unknown) => {
      assert.ok(e instanceof DriverError);
      assert.equal(e.code, 'DRIVER_FAILED');
      assert.equal(e.retryable, false);
      assert.ok(e.message.includes('batch.test') && e.message.includes('pdns-test'), e.message);
      return true;
    });
  });

  it('never puts the API key in an error', async () => {
    const d = driverFor(server, 'secret-key-should-not-leak');
    await assert.rejects(d.listRecords('batch.test'), (e: unknown) => {
      assert.ok(e instanceof DriverError && e.code === 'DRIVER_AUTH');
      assert.ok(!e.message.includes('secret-key-should-not-leak'), e.message);
      return true;
    });
    const missing = createPowerdnsDriver({ name: 'p', settings: { url: server.apiUrl, apiKeyEnv: 'NOT_SET_ANYWHERE', serverId: 'localhost' }, env: {} });
    await assert.rejects(missing.listRecords('batch.test'), (e: unknown) => e instanceof DriverError && e.code === 'DRIVER_AUTH' && e.message.includes('NOT_SET_ANYWHERE'));
  });

  it('nameservers default to the zone NS set', async () => {
    const d = createPowerdnsDriver({ name: 'p', settings: { url: server.apiUrl, apiKeyEnv: KEY_ENV, serverId: 'localhost' }, env: { [KEY_ENV]: server.apiKey } });
    assert.deepEqual(await d.nameservers('batch.test'), ['ns1.batch.test']);
  });
});

/**
 * PowerDNS itself never throttles or fails on cue, so retry handling is checked against a loopback stand-in
 * that answers what a proxy in front of it would (429 with Retry-After, 503), then a real PATCH response.
 */
describe('powerdns driver retries (loopback stand-in for throttling)', () => {
  let stub: Server;
  let url = '';
  const script: { status: number; headers?: Record<string, string>; body?: string }[] = [];
  const seen: { method: string; at: number }[] = [];
  before(async () => {
    stub = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        seen.push({ method: req.method ?? '', at: Date.now() });
        const next = script.shift() ?? { status: 204 };
        res.writeHead(next.status, next.headers ?? {});
        res.end(next.status === 204 ? undefined : (next.body ?? '{"error": "try later"}'));
      });
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(stub.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((r) => stub.close(() => r())));

  const change: Change = { action: 'create', after: { name: 'a.stub.test', type: 'A', ttl: 60, values: ['192.0.2.1'] } };
  const stubDriver = () =>
    createPowerdnsDriver({ name: 'stub', settings: { url, apiKeyEnv: KEY_ENV, serverId: 'localhost' }, env: { [KEY_ENV]: 'k' } }, { retry: { baseDelayMs: 1 } });

  it('honours retry-after on 429 and retries 5xx, counting every request sent (what a rate limit counts)', async () => {
    seen.length = 0;
    script.push({ status: 429, headers: { 'retry-after': '1' } }, { status: 503 });
    const report = await stubDriver().applyChanges('stub.test', [change]);
    assert.equal(report.requests, 3);
    assert.equal(seen.length, 3);
    assert.ok(seen[1].at - seen[0].at >= 950, `waited only ${seen[1].at - seen[0].at} ms after a 1 s retry-after`);
  });

  it('gives up on a permanent 4xx at once', async () => {
    seen.length = 0;
    script.push({ status: 400 });
    await assert.rejects(stubDriver().applyChanges('stub.test', [change]), (e: unknown) => e instanceof DriverError && e.code === 'DRIVER_FAILED' && !e.retryable);
    assert.equal(seen.length, 1);
  });

  it('a 422 "Could not find domain" is DRIVER_NOT_FOUND', async () => {
    script.push({ status: 422, body: '{"error": "Could not find domain \'stub.test.\'"}' });
    await assert.rejects(stubDriver().listRecords('stub.test'), (e: unknown) => e instanceof DriverError && e.code === 'DRIVER_NOT_FOUND' && e.message.includes('stub.test'));
  });
});

describe('TXT presentation format', () => {
  it('quotes, escapes and splits at 255 bytes; unquoting restores the text', () => {
    assert.equal(quoteTxt('a "b" \\c'), '"a \\"b\\" \\\\c"');
    assert.equal(quoteTxt(''), '""');
    const long = 'é'.repeat(200); // 400 bytes: the split falls inside a character
    const q = quoteTxt(long);
    assert.equal(q.split('" "').length, 2);
    assert.equal(unquoteTxt(q), long);
    assert.equal(unquoteTxt('"hello" "world"'), 'helloworld');
    assert.equal(unquoteTxt('"\\195\\169t\\195\\169"'), 'été');
  });
});
