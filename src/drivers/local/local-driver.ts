import { isIPv6 } from 'node:net';
import { DriverError } from '../../domain/errors.ts';
import { normalizeName, type ApplyReport, type Change, type RecordSet } from '../../domain/records.ts';
import { batchedWriteRequests, chunk, type DnsDriver, type DriverContext } from '../dns-driver.ts';
import { withRetry, type RetryOptions } from '../retry.ts';
import { LOCAL_CAPABILITIES } from './local-capabilities.ts';
import type { LocalSettings } from './local-settings.ts';
import type { ZoneCreateOptions } from './zone-data.ts';
import { openZoneStore, ZoneStoreError, type ZoneStore } from './zone-store.ts';

/** The driver reads the address and nameservers only; the server's limits (tcp, rrl) are the daemon's business. */
export interface LocalDriverContext extends DriverContext<Omit<LocalSettings, 'tcp' | 'rrl'> & Partial<Pick<LocalSettings, 'tcp' | 'rrl'>>> {
  /** Directory of the zone files the embedded server serves. */
  zoneDir: string;
  /** A store to use instead of the process-wide one for zoneDir (tests). */
  store?: ZoneStore;
  retry?: RetryOptions;
}

/**
 * The zero-cloud driver: reads and writes the zone files served by the embedded DNS server.
 * Each batch of up to maxBatch changes is one atomic file replacement (one "request").
 */
export function createLocalDriver(ctx: LocalDriverContext): DnsDriver {
  const store = ctx.store ?? openZoneStore(ctx.zoneDir);
  const provider = ctx.name;
  const listen = ctx.settings.listen ?? '127.0.0.1';
  const port = ctx.settings.port ?? 5353;

  const fail = (zone: string, err: unknown): never => {
    if (err instanceof DriverError) throw err;
    if (err instanceof ZoneStoreError) {
      if (err.reason === 'not-found') throw new DriverError({ code: 'DRIVER_NOT_FOUND', provider, zone, message: `zone ${zone} does not exist (create it first)`, cause: err });
      throw new DriverError({ code: 'DRIVER_FAILED', provider, zone, message: err.message, retryable: err.reason === 'busy', cause: err });
    }
    throw new DriverError({ code: 'DRIVER_FAILED', provider, zone, message: `zone store failed: ${(err as Error)?.message ?? String(err)}`, retryable: true, cause: err });
  };

  return {
    kind: 'local',
    name: provider,
    capabilities: LOCAL_CAPABILITIES,

    async listRecords(zoneName: string): Promise<RecordSet[]> {
      const zone = normalizeName(zoneName);
      const data = await store.read(zone).catch((err) => fail(zone, err));
      if (!data) return fail(zone, new ZoneStoreError('not-found', zone));
      return data.rrsets.map((r) => ({ ...r, values: [...r.values] }));
    },

    async applyChanges(zoneName: string, changes: readonly Change[], signal?: AbortSignal): Promise<ApplyReport> {
      const zone = normalizeName(zoneName);
      let requests = 0;
      for (const batch of chunk(changes, LOCAL_CAPABILITIES.maxBatch)) {
        signal?.throwIfAborted();
        await withRetry(() => { requests++; return store.apply(zone, batch).catch((err) => fail(zone, err)); }, { ...ctx.retry, signal });
      }
      return { provider, zone, applied: changes.length, requests };
    },

    writeRequests(_zone: string, changes: readonly Change[]): number {
      return batchedWriteRequests(changes, LOCAL_CAPABILITIES.maxBatch);
    },

    async nameservers(): Promise<string[]> {
      if (ctx.settings.nameservers?.length) return [...ctx.settings.nameservers];
      return [isIPv6(listen) ? `[${listen}]:${port}` : `${listen}:${port}`];
    },
  };
}

/**
 * Creates `zone` in the zone directory unless it is there (SOA + apex NS). For the daemon and `flotilla demo`,
 * which call it for every zone of the spec before the first reconcile. Returns true when it created the zone.
 */
export async function ensureLocalZone(zoneDir: string, zone: string, opts: ZoneCreateOptions = {}): Promise<boolean> {
  return openZoneStore(zoneDir).ensureZone(zone, opts);
}
