import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Campaign, Etcd3 as Etcd3Client, IKeyValue, Lease, Namespace, Watcher } from 'etcd3';
import type { Health } from '../domain/health.ts';
import type { Cluster, Fence, LeaderInfo, VantageRecord } from './cluster.ts';
import { StateError } from '../domain/errors.ts';
import { FencedError } from './fenced-error.ts';

// etcd3 (gRPC) adds ~25 MiB of RSS to a process: loaded on the first etcd cluster, never by a daemon on file state
const require = createRequire(import.meta.url);
const etcd3 = (): typeof import('etcd3') => require('etcd3');

export interface EtcdClusterOptions {
  endpoints: string[];
  /** Key prefix of the stack, e.g. `/flotilla/prod/`. */
  prefix: string;
  vantage: string;
  /** Lease TTL in whole seconds (etcd's unit; ≥ 2). A replica silent this long stops counting; a dead leader is replaced within it. */
  leaseTtlS: number;
  /**
   * How often vantages and the leader are read in full (default a quarter of the lease, at most 1 s): a resync and the
   * liveness check of etcd. Verdicts and expired vantages arrive by watch as they happen, not at the next read.
   */
  pollMs?: number;
  /** Per etcd call (default 1000 ms). */
  callTimeoutMs?: number;
  log?: (line: string) => void;
}

interface Published { vantage: string; at: number; health: Health }

/**
 * The replicas of one stack on an etcd cluster, through the `etcd3` package (gRPC: leases with keep-alive, elections).
 * - `<prefix>vantages/<name>`: one key per vantage, written only by that vantage, attached to its lease: when the
 *   replica dies or is cut off from etcd for the TTL, etcd deletes the key and the vantage stops counting.
 * - `<prefix>election/leader/<lease>`: etcd3's election (the Go client's recipe): the oldest key wins. The winner's
 *   key and its create revision are the fence: fence() is a txn comparing that create revision, so a replica that
 *   was deposed while it slept (SIGSTOP longer than the TTL) learns it before any write (FencedError, NOT_LEADER).
 *   When etcd cannot answer, fence() rejects with STATE_UNAVAILABLE instead: nothing is written, the pass retries.
 * - A watch on `<prefix>vantages/` delivers each vantage's put (a flip) and delete (its lease expired) as etcd
 *   commits it. Every `pollMs` the vantages and the leader are also read in full (resync, leader, liveness): a poll
 *   that fails for longer than the TTL is a problem() (etcd unreachable or without quorum), and so is a lost lease.
 */
export class EtcdCluster extends EventEmitter implements Cluster {
  readonly kind = 'etcd';
  readonly vantage: string;
  private readonly client: Etcd3Client;
  private readonly ns: Namespace;
  private lease: Lease | undefined;
  private campaign: Campaign | undefined;
  private fenceKey: Fence | undefined;
  private leaderSince = 0;
  private seen = new Map<string, VantageRecord>();
  /** When each vantage's key was last known to exist here (watch put, own put, poll): a poll begun earlier cannot say it is gone. */
  private heardAt = new Map<string, number>();
  /** When each vantage's key was last heard deleted (watch): a poll begun earlier cannot bring it back. */
  private goneAt = new Map<string, number>();
  private leaderInfo: LeaderInfo | undefined;
  private lastPollOk = Date.now();
  private pollError: string | undefined;
  private leaseLost: string | undefined;
  private latest: Health = {};
  private stopped = true;
  private timers = new Set<NodeJS.Timeout>();
  private lastPublish = 0;
  private watcher: Watcher | undefined;
  /** Whether the watch on the vantages is connected: while it is not, verdicts arrive only by the poll. */
  private watching = false;
  private closed = false;

  constructor(private readonly o: EtcdClusterOptions) {
    super();
    this.vantage = o.vantage;
    const timeout = o.callTimeoutMs ?? 1000;
    this.client = new (etcd3().Etcd3)({
      hosts: o.endpoints,
      dialTimeout: timeout,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    });
    this.ns = this.client.namespace(o.prefix.endsWith('/') ? o.prefix : `${o.prefix}/`);
  }

  private get vantageKey(): string {
    return `vantages/${this.vantage}`;
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.grantLease();
    this.startCampaign();
    // every read is a linearizable round among the members: a frequent one loads etcd (and a shared machine) for nothing
    const pollMs = this.o.pollMs ?? Math.min(1000, this.o.leaseTtlS * 250);
    const next = () => pollDelay({ watching: this.watching, pollMs });
    const loop = () => {
      if (this.stopped) return;
      void this.poll().finally(() => this.later(next(), loop));
    };
    await this.poll();
    this.later(next(), loop);
    // another vantage's flip, or its expired lease, arrives as it is written, not at the next poll
    this.ns.watch().prefix('vantages/').create().then(
      (w) => {
        if (this.stopped) { void w.cancel(); return; }
        this.watcher = w;
        this.watching = true;
        // a member that died under the watch: its stream reconnects with backoff, the poll covers the gap
        w.on('disconnected', () => (this.watching = false));
        w.on('connected', () => (this.watching = true));
        w.on('put', (kv: IKeyValue) => this.seenPut(kv));
        w.on('delete', (kv: IKeyValue) => this.seenDelete(kv));
        w.on('error', () => undefined); // the poll carries on
      },
      () => undefined,
    );
  }

  private seenPut(kv: IKeyValue): void {
    try {
      const p = JSON.parse(kv.value.toString()) as Published;
      const had = this.seen.get(p.vantage);
      this.heardAt.set(p.vantage, Date.now());
      if (had?.at !== undefined && had.at > p.at) return;
      this.seen.set(p.vantage, { name: p.vantage, live: true, at: p.at, health: p.health });
      if (p.vantage !== this.vantage) this.emit('change');
    } catch {
      /* not ours */
    }
  }

  /** A vantage's key deleted (its lease expired or was revoked): it stops counting now, not at the next poll. */
  private seenDelete(kv: IKeyValue): void {
    const key = kv.key.toString();
    const name = key.slice(key.indexOf('vantages/') + 'vantages/'.length);
    this.goneAt.set(name, Date.now());
    const had = this.seen.get(name);
    if (!had?.live) return;
    had.live = false;
    this.emit('change');
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.watcher?.cancel().catch(() => undefined);
    const wasLeader = this.fenceKey !== undefined;
    this.fenceKey = undefined;
    // resigning hands over at once instead of after the TTL
    await this.campaign?.resign().catch(() => undefined);
    await this.lease?.revoke().catch(() => undefined);
    if (wasLeader) this.emit('deposed');
    this.client.close();
  }

  async publish(health: Health): Promise<void> {
    this.latest = health;
    const lease = this.lease;
    if (!lease || this.stopped) return;
    const body: Published = { vantage: this.vantage, at: Date.now(), health };
    this.lastPublish = body.at;
    try {
      await lease.put(this.vantageKey).value(JSON.stringify(body)).exec();
      this.heardAt.set(this.vantage, Date.now());
    } catch (e) {
      this.o.log?.(`etcd: could not publish the verdicts of vantage ${this.vantage}: ${(e as Error).message}`);
    }
  }

  vantages(): VantageRecord[] {
    return [...this.seen.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  isLeader(): boolean {
    return this.fenceKey !== undefined;
  }

  leader(): LeaderInfo | undefined {
    return this.leaderInfo;
  }

  currentFence(): Fence | undefined {
    return this.fenceKey;
  }

  problem(): string | undefined {
    if (this.leaseLost) return this.leaseLost;
    if (this.pollError && Date.now() - this.lastPollOk > this.o.leaseTtlS * 1000) return `etcd unreachable for ${Math.round((Date.now() - this.lastPollOk) / 1000)}s (${this.pollError})`;
    return undefined;
  }

  async fence(): Promise<void> {
    const f = this.fenceKey;
    if (!f) throw new FencedError('write', 'not the leader');
    let ok: boolean | undefined;
    // one member down must not cost a failover: the next try goes to another member
    for (let attempt = 1; ok === undefined; attempt++) {
      try {
        const asked = performance.now();
        const r = (await this.client.if(f.key, 'Create', '==', f.createRevision).commit()).succeeded;
        // an answer read long after it was given (this process was paused in between: SIGSTOP, a VM freeze)
        // may be older than a new leader: ask again (the monotonic clock runs on while a process is stopped)
        if (performance.now() - asked > (this.o.leaseTtlS * 1000) / 2) {
          if (attempt >= 3) throw new Error(`three confirmations in a row took longer than half the lease`);
          continue;
        }
        ok = r;
      } catch (e) {
        // not a deposition: etcd could not say; the write waits, and the pass is retried
        if (attempt >= 3 || this.stopped) throw new StateError('STATE_UNAVAILABLE', `etcd could not confirm the leadership before a write (${(e as Error).message}); nothing written, retrying`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (!ok) {
      this.depose(`the leader key ${f.key} no longer holds revision ${f.createRevision}`);
      throw new FencedError('write', `the leader key ${f.key} no longer holds revision ${f.createRevision}`);
    }
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => { this.timers.delete(t); fn(); }, ms);
    this.timers.add(t);
  }

  private grantLease(): void {
    if (this.stopped) return;
    const lease = this.ns.lease(this.o.leaseTtlS);
    this.lease = lease;
    lease.on('lost', (e) => {
      if (this.lease !== lease || this.stopped) return;
      this.leaseLost = `the lease of vantage ${this.vantage} was lost (${e.message}); its verdicts do not count until it is granted again`;
      this.emit('lapsed');
      this.emit('change');
      this.lease = undefined;
      this.later(500, () => this.grantLease());
    });
    lease.grant().then(
      async () => {
        if (this.lease !== lease) return;
        this.leaseLost = undefined;
        await this.publish(this.latest);
        this.emit('change');
      },
      () => undefined, // 'lost' follows
    );
  }

  private startCampaign(): void {
    if (this.stopped) return;
    const c = this.ns.election('leader', this.o.leaseTtlS).campaign(JSON.stringify({ vantage: this.vantage, since: 0 }));
    this.campaign = c;
    c.on('elected', async () => {
      if (this.campaign !== c || this.stopped) return;
      try {
        const key = await c.getCampaignKey();
        const kv = (await this.client.get(key).exec()).kvs[0];
        if (!kv) throw new Error(`the campaign key ${key} is gone`);
        const since = Date.now();
        await c.proclaim(JSON.stringify({ vantage: this.vantage, since }));
        this.fenceKey = { key, createRevision: Number(kv.create_revision) };
        this.leaderSince = since;
        this.leaderInfo = { vantage: this.vantage, since };
        this.o.log?.(`elected leader (key ${key}, revision ${kv.create_revision})`);
        this.emit('elected');
        this.emit('change');
      } catch (e) {
        this.campaignFailed(c, e);
      }
    });
    c.on('error', (e) => this.campaignFailed(c, e));
  }

  private campaignFailed(c: Campaign, e: unknown): void {
    if (this.campaign !== c) return;
    this.campaign = undefined;
    this.depose(`campaign failed: ${(e as Error)?.message ?? String(e)}`);
    void c.resign().catch(() => undefined);
    this.later(500, () => this.startCampaign());
  }

  private depose(why: string): void {
    if (!this.fenceKey) return;
    this.fenceKey = undefined;
    this.o.log?.(`no longer the leader: ${why}`);
    this.emit('deposed');
    this.emit('change');
  }

  private async poll(): Promise<void> {
    const began = Date.now();
    try {
      const [vs, lead] = await Promise.all([
        this.ns.getAll().prefix('vantages/').exec(),
        this.ns.getAll().prefix('election/leader/').sort('Create', 'Ascend').limit(1).exec(),
      ]);
      this.lastPollOk = Date.now();
      this.pollError = undefined;
      const before = JSON.stringify([...this.seen.values()].map((v) => [v.name, v.live, v.health])) + JSON.stringify(this.leaderInfo);
      const present = new Set<string>();
      for (const kv of vs.kvs) {
        try {
          const p = JSON.parse(kv.value.toString()) as Published;
          if (readPredatesDelete({ readBegan: began, goneAt: this.goneAt.get(p.vantage), heardAt: this.heardAt.get(p.vantage) })) continue;
          present.add(p.vantage);
          // a poll begun before a put the watch already delivered must not bring the older verdicts back
          const had = this.seen.get(p.vantage);
          if (had?.at !== undefined && had.at > p.at) had.live = true;
          else this.seen.set(p.vantage, { name: p.vantage, live: true, at: p.at, health: p.health });
        } catch {
          /* not ours */
        }
      }
      // absent from this read: gone, unless its put was heard after the read began (the read may predate it)
      for (const v of this.seen.values()) if (!present.has(v.name) && (this.heardAt.get(v.name) ?? 0) < began) v.live = false;
      const l = lead.kvs[0];
      if (l) {
        try {
          const v = JSON.parse(l.value.toString()) as LeaderInfo;
          this.leaderInfo = v.vantage === this.vantage && this.fenceKey ? { vantage: v.vantage, since: this.leaderSince } : v;
        } catch {
          this.leaderInfo = undefined;
        }
      } else this.leaderInfo = undefined;
      if (Date.now() - this.lastPublish > 2000) void this.publish(this.latest);
      const after = JSON.stringify([...this.seen.values()].map((v) => [v.name, v.live, v.health])) + JSON.stringify(this.leaderInfo);
      if (after !== before) this.emit('change');
    } catch (e) {
      const had = this.problem();
      this.pollError = (e as Error)?.message ?? String(e);
      // what cannot be read is not known to be alive
      if (Date.now() - this.lastPollOk > this.o.leaseTtlS * 1000) for (const v of this.seen.values()) v.live = false;
      if (this.problem() !== had) this.emit('change');
    }
  }
}

/** While the watch is down (not yet created, or its member died) the full read is the only news: every 100 ms. Pure. */
export function pollDelay(o: { watching: boolean; pollMs: number }): number {
  return o.watching ? o.pollMs : Math.min(o.pollMs, 100);
}

/**
 * Whether a full read that began at `readBegan` and found a vantage's key is older news than the watch's delete of
 * it (`goneAt`, ms): the key was deleted after the read began and not heard put again since (`heardAt`). Then the
 * read must not bring the vantage back. Pure.
 */
export function readPredatesDelete(o: { readBegan: number; goneAt?: number; heardAt?: number }): boolean {
  if (o.goneAt === undefined) return false;
  return o.goneAt >= o.readBegan && o.goneAt >= (o.heardAt ?? 0);
}

/**
 * One read of the replicas of a stack, for commands that are not replicas (`status`, `apply`): the live vantages
 * (their keys still exist, so their leases hold) and the leader. Throws when etcd cannot answer.
 */
export async function readClusterView(o: { endpoints: string[]; prefix: string; timeoutMs?: number }): Promise<{ vantages: VantageRecord[]; leader?: LeaderInfo }> {
  const timeout = o.timeoutMs ?? 3000;
  const client = new (etcd3().Etcd3)({ hosts: o.endpoints, dialTimeout: timeout, defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }) });
  try {
    const ns = client.namespace(o.prefix.endsWith('/') ? o.prefix : `${o.prefix}/`);
    const [vs, lead] = await Promise.all([ns.getAll().prefix('vantages/').exec(), ns.getAll().prefix('election/leader/').sort('Create', 'Ascend').limit(1).exec()]);
    const vantages: VantageRecord[] = [];
    for (const kv of vs.kvs) {
      try {
        const p = JSON.parse(kv.value.toString()) as Published;
        vantages.push({ name: p.vantage, live: true, at: p.at, health: p.health });
      } catch {
        /* not ours */
      }
    }
    let leader: LeaderInfo | undefined;
    try {
      leader = lead.kvs[0] ? (JSON.parse(lead.kvs[0].value.toString()) as LeaderInfo) : undefined;
    } catch {
      leader = undefined;
    }
    return { vantages: vantages.sort((a, b) => a.name.localeCompare(b.name)), leader };
  } finally {
    client.close();
  }
}
