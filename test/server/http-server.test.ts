/**
 * The HTTP server against a plain object standing in for the controller (no Controller class): everything it shows
 * comes from the read-only ControllerView, every write goes to ControllerCommands. The view is frozen, so a route
 * that tried to change it would throw.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { ControllerCommands, ControllerView, SubmittedOverride } from '../../src/controller/controller-view.ts';
import { decide, type VantageView } from '../../src/controller/decide.ts';
import type { OverrideCommand } from '../../src/controller/overrides.ts';
import type { AuditEvent } from '../../src/domain/audit.ts';
import { unknownHealth, type Health } from '../../src/domain/health.ts';
import { emptyState } from '../../src/domain/state.ts';
import { startHttpServer, type RunningHttpServer } from '../../src/server/http-server.ts';
import type { AuditQuery } from '../../src/state/state-store.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

const up = (): Health[string] => ({ ...unknownHealth(), state: 'up' });
const down = (): Health[string] => ({ ...unknownHealth(), state: 'down', lastReason: 'refused' });

describe('HTTP server on a plain read-only view (no Controller)', { timeout: 20_000 }, () => {
  const spec = fleetFixture({ alternateDomains: [] });
  const events = new EventEmitter();
  const mine: Health = { m0: up(), m1: down(), m2: up() };
  const vantages: VantageView[] = [
    { name: 'v1', live: true, at: 1, health: mine },
    { name: 'v2', live: true, at: 1, health: { m0: up(), m1: down(), m2: up() } },
    { name: 'v3', live: false, at: 1, health: { m0: up(), m1: up(), m2: up() } },
  ];
  const old: AuditEvent = { at: 5, kind: 'daemon', message: 'an old event from the log' };
  const pages: AuditQuery[] = [];
  const view: ControllerView = Object.freeze({
    spec,
    vantage: 'v1',
    health: mine,
    overrides: [],
    inventory: undefined,
    cutOff: false,
    failStatic: undefined,
    lastServing: ['m0', 'm2'],
    lastOutcome: undefined,
    providerStatus: {},
    lastGood: [],
    auditLog: {
      audit: async () => [],
      auditPage: async (q: AuditQuery) => { pages.push(q); return { events: [old], skipped: 0 }; },
    },
    decision: () => decide({ spec, vantages, self: 'v1', overrides: [], now: Date.now() }),
    desired: () => decide({ spec, vantages, self: 'v1', overrides: [], now: Date.now() }).desired,
    vantageViews: () => vantages,
    isLeader: () => false,
    leader: () => ({ vantage: 'v2', since: 1_700_000_000_000 }),
    on: (e, fn) => events.on(e, fn as (...a: unknown[]) => void),
    off: (e, fn) => events.off(e, fn as (...a: unknown[]) => void),
  } satisfies ControllerView);
  const submitted: OverrideCommand[] = [];
  const commands: ControllerCommands = {
    async submitOverride(cmd): Promise<SubmittedOverride> {
      submitted.push(cmd);
      return { outcome: { state: emptyState(), saved: emptyState(), removed: [], changed: true, message: `recorded ${cmd.kind} of ${cmd.mirror}` } };
    },
  };
  let server: RunningHttpServer;
  before(async () => {
    server = await startHttpServer({ controller: view, commands, listen: '127.0.0.1', port: 0, token: 'secret' });
  });
  after(() => server?.close());

  it('GET /api/status: the view\'s vantages, verdicts, leader and decision', async () => {
    events.emit('audit', { at: Date.now(), kind: 'flip', message: 'm1 is down: refused', actor: 'vantage v1' } satisfies AuditEvent);
    const s = (await (await fetch(`${server.url}/api/status`)).json()) as Record<string, unknown> & { vantages: { name: string; live: boolean; verdicts: Record<string, string> }[]; mirrors: { name: string; state: string; serving: boolean }[]; audit: AuditEvent[] };
    assert.equal(s.vantage, 'v1');
    assert.deepEqual(s.leader, { vantage: 'v2', since: 1_700_000_000_000 });
    assert.deepEqual(s.vantages.map((v) => [v.name, v.live, v.verdicts.m1]), [['v1', true, 'down'], ['v2', true, 'down'], ['v3', false, 'up']]);
    assert.deepEqual(s.serving, ['m0', 'm2'], 'two live vantages of two call m1 down');
    assert.deepEqual(s.published, ['m0', 'm2']);
    assert.ok(s.audit.some((e) => e.message === 'm1 is down: refused'), 'audit events heard through view.on');
  });

  it('GET /metrics and /healthz read the view', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /flotilla_vantage_live\{vantage="v3"\} 0/);
    assert.match(text, /flotilla_vantage_verdict\{vantage="v2",mirror="m1"\} 0/);
    assert.match(text, /flotilla_mirror_serving\{mirror="m1"\} 0/);
    const h = await fetch(`${server.url}/healthz`);
    assert.equal(h.status, 200, await h.clone().text()); // a follower with a leader, something to serve
  });

  it('GET /api/history reads the audit log through the view', async () => {
    const r = (await (await fetch(`${server.url}/api/history?since=0`)).json()) as { events: AuditEvent[] };
    assert.deepEqual(r.events.map((e) => e.message), ['an old event from the log']);
    assert.equal(pages.length, 1);
  });

  it('POST /api/drain goes to the commands, never to the view', async () => {
    const r = await fetch(`${server.url}/api/drain`, { method: 'POST', headers: { authorization: 'Bearer secret', 'content-type': 'application/json', 'x-flotilla-author': 'ana' }, body: JSON.stringify({ mirror: 'm2', reason: 'kernel upgrade' }) });
    const body = (await r.json()) as { ok: boolean; message: string; reconcile: string };
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.equal(body.message, 'recorded drain of m2');
    assert.equal(body.reconcile, 'not needed');
    assert.deepEqual(submitted.map((c) => [c.kind, c.mirror]), [['drain', 'm2']]);
    const bad = await fetch(`${server.url}/api/drain`, { method: 'POST', headers: { authorization: 'Bearer secret', 'content-type': 'application/json' }, body: JSON.stringify({ mirror: 'nope', reason: 'x' }) });
    assert.equal(bad.status, 400);
    assert.equal(submitted.length, 1);
  });
});
