import type { AuditEvent } from '../domain/audit.ts';
import type { ControllerView } from '../controller/controller-view.ts';

export interface RecentAuditOptions {
  controller: ControllerView;
  /** Events kept in memory (default 500). */
  capacity?: number;
  /** How far back the one read at start looks (default one day). */
  seedWindowMs?: number;
  now?: () => number;
  log?: (line: string) => void;
}

/**
 * The most recent audit events, in memory and bounded: what the status page and /api/status show, so an
 * unauthenticated request never reads the audit log. Filled once from the store at start (in the background),
 * then from the controller's 'audit' events (emitted only once an event is durable).
 */
export class RecentAudit {
  private events: AuditEvent[] = [];
  private readonly capacity: number;
  /** Every event at or after this time is in `events`, once the first read has settled (Infinity until then). */
  private base = Infinity;
  /** The newest `at` ever dropped from memory. */
  private droppedAt = -Infinity;
  private readonly onAudit = (e: AuditEvent) => this.add(e);
  /** Settles once the first read from the store is done (or failed). */
  readonly ready: Promise<void>;

  constructor(private readonly o: RecentAuditOptions) {
    this.capacity = o.capacity ?? 500;
    const now = o.now ?? Date.now;
    const startedAt = now();
    o.controller.on('audit', this.onAudit);
    const since = startedAt - (o.seedWindowMs ?? 86_400_000);
    this.ready = o.controller.auditLog.audit(since).then(
      (seed) => {
        const live = this.events;
        const seen = new Set(live.map(key));
        const merged = [...seed.filter((e) => !seen.has(key(e))), ...live].sort((a, b) => a.at - b.at);
        this.events = merged.slice(-this.capacity);
        if (merged.length > this.capacity) this.droppedAt = Math.max(this.droppedAt, merged[merged.length - this.capacity - 1].at);
        this.base = since;
      },
      (err: unknown) => {
        o.log?.(`status: could not read recent audit events: ${(err as Error).message}`);
        this.base = startedAt;
      },
    );
  }

  get size(): number {
    return this.events.length;
  }

  /** The last `limit` events (newest last). */
  recent(limit: number): AuditEvent[] {
    return this.events.slice(-limit);
  }

  /** The events at or after `since` (newest last), or undefined when memory does not hold all of them. */
  since(since: number): AuditEvent[] | undefined {
    if (since < Math.max(this.base, this.droppedAt + 1)) return undefined;
    const i = this.events.findIndex((e) => e.at >= since);
    return i < 0 ? [] : this.events.slice(i);
  }

  close(): void {
    this.o.controller.off('audit', this.onAudit);
  }

  private add(e: AuditEvent): void {
    this.events.push(e);
    // drop in batches so a full buffer does not copy on every event
    if (this.events.length >= this.capacity * 2) {
      this.droppedAt = Math.max(this.droppedAt, this.events[this.events.length - this.capacity - 1].at);
      this.events = this.events.slice(-this.capacity);
    }
  }
}

function key(e: AuditEvent): string {
  return JSON.stringify(e);
}
