import type { ApplyReport, Change, RecordSet, RecordType } from '../domain/records.ts';

/** What a provider can do, as data (DNSControl-style capability table). The planner and controller shape writes with it. */
export interface DriverCapabilities {
  /** The unit the API writes: one record value, one RRset, or the whole zone. */
  granularity: 'record' | 'rrset' | 'zone';
  /** True when one request applies a whole batch or nothing. */
  atomicBatch: boolean;
  /** Lowest TTL the provider accepts (seconds). */
  minTtl: number;
  types: readonly RecordType[];
  /** Most changes one write request may carry; larger change sets are split. */
  maxBatch: number;
  /** Write budget of the account: `requests` per `perMs`. Infinity for local servers. */
  writeBudget: { requests: number; perMs: number };
}

/**
 * The driver contract (libdns-style: tiny). Drivers list and apply records; they never decide anything.
 * - listRecords returns every RRset in the zone (foreign ones too), names absolute without trailing dot.
 * - applyChanges applies exactly the given changes, splitting into batches of capabilities.maxBatch, retrying
 *   throttled requests with backoff (honouring retry-after). It throws DriverError (typed, no secrets) on failure.
 * - nameservers returns host or host:port of every authoritative server to verify against.
 */
export interface DnsDriver {
  readonly kind: string;
  /** The provider's name in the stack file. */
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  listRecords(zone: string, signal?: AbortSignal): Promise<RecordSet[]>;
  applyChanges(zone: string, changes: readonly Change[], signal?: AbortSignal): Promise<ApplyReport>;
  /**
   * How many write requests (HTTP requests, UPDATE messages) applyChanges(zone, changes) sends, retries not included:
   * exact where the changes alone decide it (Hetzner: one per RRset, two when values and TTL both change), an upper
   * bound where the provider's own records shape the batches (Cloudflare, Route 53). Pure. The write budget
   * (src/controller/budgeted-driver.ts) takes this many tokens before the apply; ApplyReport.requests is what was sent.
   */
  writeRequests(zone: string, changes: readonly Change[]): number;
  nameservers(zone: string): Promise<string[]>;
  /** Release sockets/agents. Optional. */
  close?(): Promise<void>;
}

/** Everything a driver factory gets. */
export interface DriverContext<S> {
  /** The provider's name in the stack file. */
  name: string;
  settings: S;
  /** Where secrets are read from (process.env in production, a map in tests). */
  env: Record<string, string | undefined>;
}

/** Write requests of a driver that sends one request per batch of at most `maxBatch` changes. */
export function batchedWriteRequests(changes: readonly Change[], maxBatch: number): number {
  return chunk(changes, maxBatch).length;
}

/** Splits a list into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += Math.max(1, size)) out.push(items.slice(i, i + Math.max(1, size)));
  return out;
}
