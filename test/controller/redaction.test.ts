/**
 * Text that came from outside the stack file (SDK and fetch errors, canary results) never carries a URL's userinfo
 * or token into the audit log, the log, the state or the status snapshot (page, /api/status, event stream).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkCanaries } from '../../src/controller/canaries.ts';
import { Controller } from '../../src/controller/controller.ts';
import { reconcileAll } from '../../src/controller/reconcile.ts';
import type { AuditEvent } from '../../src/domain/audit.ts';
import { LOCAL_CAPABILITIES } from '../../src/drivers/local/local-capabilities.ts';
import type { DnsDriver } from '../../src/drivers/dns-driver.ts';
import { statusSnapshot } from '../../src/server/status-snapshot.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

const SECRET = 'hunter2-Zq81xPw';
const LEAKY = `connect failed: http://admin:${SECRET}@127.0.0.1:2379/v3/kv/txn?token=${SECRET}`;
const tmp = () => mkdtempSync(join(tmpdir(), 'flotilla-redaction-'));
const noSecret = (text: string, what: string) => assert.ok(!text.includes(SECRET), `${what} carries the secret: ${text}`);

function build(store: StateStore, log: string[] = [], over = {}) {
  return new Controller({ spec: fleetFixture(over, 2), store, drivers: [], query: async () => ({ ok: true, values: [] }), log: (l) => log.push(l) });
}

describe('redaction of outside text', () => {
  let server: Server;
  let port: number;
  before(async () => {
    server = createServer((req, res) => { req.resume(); res.writeHead(200); res.end(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('a canary URL with userinfo and a token: the result names neither', async () => {
    const r = await checkCanaries([{ target: `http://probe:${SECRET}@127.0.0.1:${port}/ping?token=${SECRET}` }], 2000);
    noSecret(JSON.stringify(r), 'the canary result');
    assert.equal(r.results[0].target, `http://***@127.0.0.1:${port}/ping?token=***`);
  });

  it('audit events are redacted before they are stored and emitted; the file store redacts what the CLI appends', async () => {
    const dir = tmp();
    const c = build(new FileStateStore(dir));
    const heard: AuditEvent[] = [];
    c.on('audit', (e) => heard.push(e));
    assert.equal(await c.audit({ kind: 'error', message: LEAKY, data: { why: LEAKY } }), true);
    noSecret(JSON.stringify(heard), 'the emitted event');
    const store = new FileStateStore(tmp());
    await store.append({ at: Date.now(), kind: 'override', message: LEAKY });
    noSecret(JSON.stringify(await store.audit()), 'the CLI-appended audit entry');
    noSecret(readFileSync(join(dir, 'audit.log'), 'utf8'), 'audit.log');
  });

  it('log lines quoting a store or SDK error are redacted', async () => {
    const log: string[] = [];
    const failing = new FileStateStore(tmp());
    failing.append = async () => { throw new Error(LEAKY); };
    const c = build(failing, log);
    assert.equal(await c.audit({ kind: 'daemon', message: 'x' }), false);
    assert.ok(log.length > 0);
    noSecret(log.join('\n'), 'the log');
  });

  it('a provider error that is not a DriverError is redacted in the report (state, status, audit)', async () => {
    const d: DnsDriver = {
      kind: 'local', name: 'p', capabilities: LOCAL_CAPABILITIES,
      listRecords: async () => { throw new Error(LEAKY); },
      applyChanges: async () => ({ applied: 0 }) as never,
      nameservers: async () => [],
      writeRequests: () => 1,
    };
    const [r] = await reconcileAll({ drivers: [d], zones: { 'example.test': [] }, ownerId: 'o', maxRemoveShare: 0.5 });
    assert.equal(r.ok, false);
    noSecret(r.error ?? '', 'the zone report');
    assert.match(r.error ?? '', /\*\*\*@127\.0\.0\.1:2379/);
  });

  it('the status snapshot is redacted whatever the controller holds', () => {
    const c = build(new FileStateStore(tmp()));
    c.providerStatus.embedded = { lastError: LEAKY };
    c.health.m0 = { state: 'down', successStreak: 0, failureStreak: 3, recentFlips: [], lastReason: LEAKY };
    noSecret(JSON.stringify(statusSnapshot(c, Date.now())), 'the status snapshot');
  });
});
