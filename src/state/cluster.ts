import type { Health } from '../domain/health.ts';

/** The leader key and the create revision it had when this controller won: what every fenced write compares. */
export interface Fence {
  key: string;
  createRevision: number;
}

/** One vantage as the cluster last saw it (its lease alive = `live`). */
export interface VantageRecord {
  name: string;
  live: boolean;
  /** When it last published (ms). */
  at?: number;
  health: Health;
}

export interface LeaderInfo {
  vantage: string;
  /** When it won the election (ms). */
  since: number;
}

/**
 * The replicas of one stack and who among them may write.
 * - publish(health) stores THIS vantage's verdicts under its own key (never another's), tied to its lease.
 * - vantages() is every vantage seen, live or stale (a lease that expired), this one included.
 * - isLeader() is this replica's belief; fence() is the proof: it resolves only while the leader key still holds
 *   the create revision this replica won with, and rejects with FencedError otherwise (or when etcd cannot say).
 * - problem() says why this replica cannot take part right now (etcd unreachable, lease lost), else undefined.
 * - 'change' is emitted when vantages, leadership or problem change; 'elected' / 'deposed' on leadership changes;
 *   'lapsed' when this vantage's own lease was lost (its verdicts stopped counting; the lease is asked for again).
 */
export interface Cluster {
  readonly vantage: string;
  readonly kind: 'solo' | 'etcd';
  start(): Promise<void>;
  stop(): Promise<void>;
  publish(health: Health): Promise<void>;
  vantages(): VantageRecord[];
  isLeader(): boolean;
  leader(): LeaderInfo | undefined;
  fence(): Promise<void>;
  /** The fence for state saves while leader (undefined for the solo cluster: nothing to compare). */
  currentFence(): Fence | undefined;
  problem(): string | undefined;
  on(event: 'change' | 'elected' | 'deposed' | 'lapsed', fn: () => void): unknown;
}

/** One controller on one machine (file store): one vantage, always the leader, nothing to fence. */
export class SoloCluster implements Cluster {
  readonly kind = 'solo';
  private health: Health = {};
  private readonly since = Date.now();
  constructor(readonly vantage: string) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async publish(health: Health): Promise<void> {
    this.health = health;
  }
  vantages(): VantageRecord[] {
    return [{ name: this.vantage, live: true, at: Date.now(), health: this.health }];
  }
  isLeader(): boolean {
    return true;
  }
  leader(): LeaderInfo {
    return { vantage: this.vantage, since: this.since };
  }
  async fence(): Promise<void> {}
  currentFence(): undefined {
    return undefined;
  }
  problem(): undefined {
    return undefined;
  }
  on(): this {
    return this;
  }
}
