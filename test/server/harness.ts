/**
 * A real Controller (fake probe, in-memory DNS driver, real FileStateStore on a temp dir) behind the real HTTP
 * server, for the server tests. Probes and DNS drivers are tested with real parts elsewhere.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller } from '../../src/controller/controller.ts';
import type { FleetSpec } from '../../src/domain/fleet-spec.ts';
import { RECORD_TYPES, rrsetKey, type ApplyReport, type Change, type RecordSet } from '../../src/domain/records.ts';
import type { DnsDriver, DriverCapabilities } from '../../src/drivers/dns-driver.ts';
import type { Probe, ProbeResult } from '../../src/probes/probe-result.ts';
import type { ProbeTarget } from '../../src/probes/probe-target.ts';
import { startHttpServer, type HttpServerOptions, type RunningHttpServer } from '../../src/server/http-server.ts';
import { FileStateStore } from '../../src/state/file-state-store.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';

/** Answers per mirror from a map the test controls; unlisted mirrors are ok. */
export class FakeProbe implements Probe {
  readonly outcome = new Map<string, { ok: boolean; reason: string }>();
  fail(mirror: string, reason = 'refused'): void {
    this.outcome.set(mirror, { ok: false, reason });
  }
  heal(mirror: string): void {
    this.outcome.delete(mirror);
  }
  async run(target: ProbeTarget): Promise<ProbeResult> {
    const o = this.outcome.get(target.mirror) ?? { ok: true, reason: 'ok' };
    return { mirror: target.mirror, ok: o.ok, reason: o.reason, latencyMs: Math.round((1 + Math.random() * 4) * 10) / 10, at: Date.now() };
  }
}

/** A DNS provider held in memory; its one "authoritative server" answers from the same map. */
export class MemoryDriver implements DnsDriver {
  readonly kind = 'memory';
  readonly capabilities: DriverCapabilities = { granularity: 'rrset', atomicBatch: true, minTtl: 1, types: RECORD_TYPES, maxBatch: 100, writeBudget: { requests: Infinity, perMs: 1000 } };
  readonly zones = new Map<string, Map<string, RecordSet>>();
  failNext = 0;
  failListNext = 0;
  constructor(readonly name: string) {}
  async listRecords(zone: string): Promise<RecordSet[]> {
    if (this.failListNext > 0) {
      this.failListNext--;
      throw new Error(`${this.name}: injected list failure`);
    }
    return [...(this.zones.get(zone)?.values() ?? [])].map((r) => structuredClone(r));
  }
  async applyChanges(zone: string, changes: readonly Change[]): Promise<ApplyReport> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error(`${this.name}: injected failure`);
    }
    const z = this.zones.get(zone) ?? new Map<string, RecordSet>();
    this.zones.set(zone, z);
    for (const c of changes) {
      if (c.action === 'delete') z.delete(rrsetKey(c.before));
      else z.set(rrsetKey(c.after), structuredClone(c.after));
    }
    return { provider: this.name, zone, applied: changes.length, requests: 1 };
  }
  writeRequests(): number {
    return 1;
  }
  async nameservers(): Promise<string[]> {
    return [`mem:${this.name}`];
  }
  /** The values the provider serves for name/type (any zone). */
  answer(name: string, type: string): string[] {
    for (const z of this.zones.values()) {
      const r = z.get(`${name}/${type}`);
      if (r) return r.values;
    }
    return [];
  }
}

export interface Harness {
  spec: FleetSpec;
  controller: Controller;
  store: FileStateStore;
  probe: FakeProbe;
  driver: MemoryDriver;
  server: RunningHttpServer;
  url: string;
  token: string | undefined;
  audit: { kind: string; message: string }[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  token?: string | null;
  spec?: Partial<FleetSpec>;
  mirrors?: number;
  probe?: FakeProbe;
  /** Server options beyond the controller, listen address and token (limits, audit capacity). */
  server?: Partial<Omit<HttpServerOptions, 'controller' | 'listen' | 'port' | 'token'>>;
  /** Runs before the controller starts (seed the store, wrap it). */
  prepare?: (store: FileStateStore, dir: string) => Promise<void> | void;
}

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-server-'));
  const driver = new MemoryDriver('memdns');
  const spec = fleetFixture({ dnsProviders: [{ name: 'memdns', kind: 'local', settings: {} }], state: { kind: 'file', path: dir, endpoints: [] }, ...o.spec }, o.mirrors ?? 3);
  const store = new FileStateStore(dir);
  await o.prepare?.(store, dir);
  const probe = o.probe ?? new FakeProbe();
  const controller = new Controller({
    spec,
    store,
    drivers: [driver],
    probe,
    query: async (q) => ({ ok: true, values: driver.answer(q.name, q.type) }),
    verifyDeadlineMs: 2000,
  });
  const audit: { kind: string; message: string }[] = [];
  controller.on('audit', (e) => audit.push(e));
  await controller.start();
  const token = o.token === null ? undefined : o.token ?? 'test-token-0123456789';
  const server = await startHttpServer({ commands: controller, ...o.server, controller, listen: '127.0.0.1', port: 0, token });
  return {
    spec,
    controller,
    store,
    probe,
    driver,
    server,
    url: server.url,
    token,
    audit,
    async close() {
      await server.close();
      await controller.stop();
      // removed at exit, not now: a background task of the controller may still be saving into it
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    },
  };
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every mirror up (rise 2 at 250 ms takes about half a second). */
export function allUp(h: Harness): Promise<true> {
  return waitFor('every mirror up', () => h.spec.mirrors.every((m) => h.controller.health[m.name]?.state === 'up') || undefined);
}

export async function post(h: Harness, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(h.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export function auth(h: Harness, author?: string): Record<string, string> {
  return { authorization: `Bearer ${h.token}`, ...(author ? { 'x-flotilla-author': author } : {}) };
}
