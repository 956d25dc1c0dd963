import { randomBytes } from 'node:crypto';
import type { AuditEvent } from '../domain/audit.ts';
import { StateError } from '../domain/errors.ts';
import { emptyState, type State } from '../domain/state.ts';
import { EtcdClient, prefixEnd, type EtcdKey, type EtcdKeyValue } from './etcd-client.ts';
import { redactDeep } from '../domain/redact-url.ts';
import type { Fence } from './cluster.ts';
import { FencedError } from './fenced-error.ts';
import { StateCorruptError } from './state-corrupt-error.ts';
import { checkState, parseAuditEvent, parseState } from './state-schema.ts';
import { AUDIT_LIMIT, type AuditPage, type AuditQuery, type StateStore } from './state-store.ts';

export interface EtcdStateStoreOptions {
  /** etcd client URLs, e.g. `http://127.0.0.1:2379`; tried in order when one cannot be reached. */
  endpoints: string[];
  /** Key prefix of this stack, e.g. `/flotilla/prod/` (a missing trailing `/` is added). */
  prefix: string;
  /** Per request. Default 5000. */
  timeoutMs?: number;
  /** Audit keys read per request by audit() and auditPage(). Default 256. */
  pageSize?: number;
  /** Replaces the global fetch (tests, custom agents). */
  fetch?: typeof fetch;
}

/**
 * The distributed store: state and audit log in etcd, shared by every controller and responder using the same prefix.
 * - `<prefix>state`: the State as JSON. save() is one etcd transaction "put if the key's mod_revision is still the
 *   one holding `expectedVersion`", so exactly one of several concurrent writers of a version wins.
 * - `<prefix>audit/<at, 16 digits>-<sequence>-<random>`: one key per event, created with "put if absent", never
 *   rewritten. etcd commits (raft, fsync) before it answers, so append() resolves only once the event is durable.
 *   audit() and auditPage() read the keys newest first, `pageSize` at a time, from one snapshot, and stop at
 *   `limit` events: events come oldest first by `at` (events with the same `at` from one process keep their
 *   append order); a value that is not an event is skipped and counted.
 * - A request that timed out and was repeated at another endpoint is recognised (the stored bytes are ours), so a
 *   save or append is never applied twice nor reported as failed when it succeeded.
 * Errors: StateUnavailableError (STATE_UNAVAILABLE) when no endpoint answers; StateCorruptError (STATE_CORRUPT, exit 2)
 * when the stored state is not a state (save() then refuses too: it is never overwritten).
 */
export class EtcdStateStore implements StateStore {
  readonly prefix: string;
  readonly stateKey: string;
  readonly auditPrefix: string;
  private readonly client: EtcdClient;
  private readonly pageSize: number;
  /** The last version this instance saw and the mod_revision holding it: saves of that version skip one read. */
  private seen: { version: number; modRevision: number } | undefined;
  private conflicts = 0;
  private fence: Fence | undefined;

  constructor(opts: EtcdStateStoreOptions) {
    this.prefix = opts.prefix.endsWith('/') ? opts.prefix : `${opts.prefix}/`;
    this.stateKey = `${this.prefix}state`;
    this.auditPrefix = `${this.prefix}audit/`;
    this.pageSize = Math.max(1, opts.pageSize ?? 256);
    this.client = new EtcdClient({
      endpoints: opts.endpoints,
      timeoutMs: opts.timeoutMs,
      fetch: opts.fetch,
      label: `etcd state store (prefix ${this.prefix})`,
    });
  }

  get endpoints(): string[] {
    return this.client.endpoints;
  }

  setFence(fence: Fence | undefined): void {
    this.fence = fence;
  }

  async load(): Promise<State> {
    const kv = (await this.client.range(this.stateKey)).kvs[0];
    const st = kv ? this.parseState(kv) : emptyState();
    this.seen = { version: st.version, modRevision: kv?.modRevision ?? 0 };
    return st;
  }

  async save(next: State, expectedVersion: number): Promise<boolean> {
    const key = this.stateKey;
    const body = JSON.stringify({ ...next, version: expectedVersion + 1, updatedAt: Date.now() });
    const check = checkState(JSON.parse(body));
    if (!check.ok) throw new StateError('STATE_CORRUPT', `refusing to save a state that would not read back (${check.problems.join('; ')})`);
    let rev: number;
    if (this.seen?.version === expectedVersion) {
      rev = this.seen.modRevision;
    } else {
      const kv = (await this.client.range(key)).kvs[0];
      if ((kv ? this.parseState(kv).version : 0) !== expectedVersion) return this.refused();
      rev = kv?.modRevision ?? 0;
    }
    // more than one round only when the key was rewritten with the same version (a restore by hand)
    for (let round = 0; round < 5; round++) {
      const f = this.fence;
      const compare = [{ key, target: 'MOD' as const, equals: rev }, ...(f ? [{ key: f.key, target: 'CREATE' as const, equals: f.createRevision }] : [])];
      const r = await this.client.txn(compare, [{ put: { key, value: body } }], [{ range: { key } }, ...(f ? [{ range: { key: f.key } }] : [])]);
      if (!r.succeeded && f && (r.ranges[1]?.kvs[0]?.createRevision ?? 0) !== f.createRevision) {
        throw new FencedError(`state save at ${key}`, `the leader key ${f.key} no longer holds revision ${f.createRevision}`);
      }
      const kv = r.ranges[0]?.kvs[0];
      if (r.succeeded || kv?.value === body) {
        this.seen = { version: expectedVersion + 1, modRevision: r.succeeded ? r.revision : kv!.modRevision };
        this.conflicts = Math.max(0, this.conflicts - 1);
        return true;
      }
      const version = kv ? this.parseState(kv).version : 0;
      this.seen = { version, modRevision: kv?.modRevision ?? 0 };
      if (version !== expectedVersion) return this.refused();
      rev = kv?.modRevision ?? 0;
    }
    return this.refused();
  }

  async append(e: AuditEvent): Promise<void> {
    const value = JSON.stringify(redactDeep(e));
    const seq = nextSequence();
    for (let i = 0; i < 5; i++) {
      const key = `${this.auditPrefix}${padTime(e.at)}-${seq}-${randomBytes(8).toString('hex')}`;
      const r = await this.client.txn([{ key, target: 'CREATE', equals: 0 }], [{ put: { key, value } }], [{ range: { key } }]);
      // a repeated request whose first answer was lost finds its own event already there
      if (r.succeeded || r.ranges[0]?.kvs[0]?.value === value) return;
    }
    throw new StateError('STATE_CONFLICT', `etcd state store (prefix ${this.prefix}): could not find a free audit key in 5 tries`);
  }

  async audit(since = 0, limit = AUDIT_LIMIT): Promise<AuditEvent[]> {
    return (await this.auditPage({ since, limit })).events;
  }

  /** Walks the audit keys backwards from the newest (or from the `before` key), `pageSize` keys per request, from one snapshot. */
  async auditPage(q: AuditQuery): Promise<AuditPage> {
    const limit = Math.max(1, q.limit ?? 100);
    const since = q.since ?? 0;
    if (q.before !== undefined && !q.before.startsWith(this.auditPrefix)) {
      throw new StateError('STATE_CORRUPT', `not an audit cursor of ${this.auditPrefix}: ${JSON.stringify(q.before)}`, { exitCode: 2 });
    }
    const from = `${this.auditPrefix}${padTime(since)}`;
    let end: EtcdKey = q.before ?? prefixEnd(this.auditPrefix);
    const events: AuditEvent[] = [];
    let skipped = 0;
    let revision: number | undefined;
    for (;;) {
      const page = await this.client.range(from, { rangeEnd: end, limit: this.pageSize, revision, descend: true });
      revision ??= page.revision;
      for (const kv of page.kvs) {
        const ev = parseAuditEvent(kv.value);
        if (!ev) skipped++;
        else if (ev.at >= since) {
          if (events.length >= limit) return { events: events.reverse(), skipped, next: end.toString() };
          events.push(ev);
        }
        end = kv.key;
      }
      if (!page.more || page.kvs.length === 0) return { events: events.reverse(), skipped };
    }
  }

  private parseState(kv: EtcdKeyValue): State {
    const r = parseState(kv.value);
    if (!r.ok) throw new StateCorruptError(`etcd key ${kv.key}`, r.problems, 'fix it, or delete the key to start from an empty state');
    return r.state;
  }

  /**
   * A refused save waits a random 0..2^n ms first (n grows with this instance's refusals, ≤ 256 ms, and shrinks with
   * each success): callers such as updateState retry at once, and many writers retrying in step would collide again.
   */
  private async refused(): Promise<false> {
    this.conflicts = Math.min(this.conflicts + 1, 8);
    await new Promise((r) => setTimeout(r, Math.random() * 2 ** this.conflicts));
    return false;
  }
}

let sequence = 0;

/** Orders events of one process that share a millisecond; fixed width so keys sort as numbers. */
function nextSequence(): string {
  sequence = (sequence + 1) % 36 ** 8;
  return sequence.toString(36).padStart(8, '0');
}

/** Milliseconds as 16 digits, so key order is time order (clamped: the key only has to sort, `at` itself is kept). */
function padTime(ms: number): string {
  const n = Number.isFinite(ms) ? Math.min(Math.max(Math.floor(ms), 0), Number.MAX_SAFE_INTEGER) : 0;
  return String(n).padStart(16, '0');
}
