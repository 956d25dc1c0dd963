/**
 * Cloudflare DNS driver, through the official `cloudflare` SDK (v7).
 * - Record granularity: an RRset is one record per value. applyChanges reads the zone's records (for their ids),
 *   turns every change into deletes/patches/posts and sends them with `POST /zones/{id}/dns_records/batch`
 *   (executed by Cloudflare in the order deletes, patches, puts, posts, as one transaction). A change set larger
 *   than `settings.batchSize` records (200 on Free, 3,500 on paid plans) is split; an RRset is never split unless
 *   it alone exceeds the limit.
 * - The SDK's own retries are off (maxRetries 0): 429 and 5xx are retried by src/drivers/retry.ts, which waits
 *   exactly the `retry-after` Cloudflare sends (a breach locks the token for minutes; never hammer it).
 * - Zone ids are looked up by name once and cached. Records are DNS-only (proxied false).
 */
import Cloudflare from 'cloudflare';
import { DriverError } from '../../domain/errors.ts';
import { normalizeName, rrsetKey, type ApplyReport, type Change, type RecordSet } from '../../domain/records.ts';
import type { DnsDriver, DriverContext } from '../dns-driver.ts';
import { withRetry, type RetryOptions } from '../retry.ts';
import { cloudflareCapabilities, CLOUDFLARE_FREE_BATCH } from './cloudflare-capabilities.ts';
import { toDriverError } from './cloudflare-errors.ts';
import { batchForChange, groupRecordSets, packBatches, type CfBatch, type CfRecord } from './cloudflare-records.ts';
import type { CloudflareSettings } from './cloudflare-settings.ts';

export const CLOUDFLARE_DEFAULT_BASE_URL = 'https://api.cloudflare.com/client/v4';

export interface CloudflareDriverOptions {
  /** Backoff for throttled / transient failures (retry-after always wins). */
  retry?: RetryOptions;
  /** Records requested per list page. */
  perPage?: number;
  /** Per-request timeout of the SDK, ms. */
  timeoutMs?: number;
}

interface ZoneInfo {
  id: string;
  nameServers: string[];
}

/**
 * The most record operations one change can take (batchForChange reuses, patches or deletes each record of the
 * RRset and posts the values left over: never more than the larger of the two sets), as a batch to pack.
 */
function cloudflareOpsBound(c: Change): CfBatch {
  const before = c.action === 'create' ? 0 : c.before.values.length;
  const after = c.action === 'delete' ? 0 : c.after.values.length;
  return { deletes: Array.from({ length: Math.max(before, after) }, (_, i) => ({ id: String(i) })), patches: [], posts: [] };
}

export function createCloudflareDriver(ctx: DriverContext<CloudflareSettings>, opts: CloudflareDriverOptions = {}): DnsDriver {
  const provider = ctx.name;
  const token = ctx.env[ctx.settings.tokenEnv] ?? '';
  const secrets = [token];
  const batchSize = ctx.settings.batchSize ?? CLOUDFLARE_FREE_BATCH;
  const perPage = opts.perPage ?? 5000;
  const zones = new Map<string, ZoneInfo>();
  const client = new Cloudflare({
    apiToken: token,
    // Explicit nulls so the SDK never picks up other credentials from the environment.
    apiKey: null,
    apiEmail: null,
    userServiceKey: null,
    baseURL: ctx.settings.baseUrl ?? CLOUDFLARE_DEFAULT_BASE_URL,
    maxRetries: 0,
    // a 30x is answered, never followed: following would carry the token to whatever address the answer names
    fetchOptions: { redirect: 'manual' },
    timeout: opts.timeoutMs ?? 30_000,
    logLevel: 'off',
  });

  const fail = (err: unknown, zone: string, what: string) => toDriverError(err, { provider, zone, secrets, what });

  async function call<T>(zone: string, what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (!token) {
      throw new DriverError({ provider, zone, code: 'DRIVER_AUTH', message: `no API token: environment variable ${ctx.settings.tokenEnv} is empty` });
    }
    return withRetry(async () => {
      try {
        return await fn();
      } catch (err) {
        throw fail(err, zone, what);
      }
    }, { ...opts.retry, signal: signal ?? opts.retry?.signal });
  }

  async function zoneInfo(zone: string, signal?: AbortSignal): Promise<ZoneInfo> {
    const name = normalizeName(zone);
    const cached = zones.get(name);
    if (cached) return cached;
    const page = await call(name, 'looking up the zone', () => client.zones.list({ name, per_page: 5 }, { signal }), signal);
    const found = page.result.find((z) => normalizeName(z.name) === name);
    if (!found) {
      throw new DriverError({ provider, zone: name, code: 'DRIVER_NOT_FOUND', message: `no zone named ${name} is visible to this API token` });
    }
    const info = { id: found.id, nameServers: (found.name_servers ?? []).map(normalizeName) };
    zones.set(name, info);
    return info;
  }

  async function listRaw(zone: string, signal?: AbortSignal): Promise<CfRecord[]> {
    const { id } = await zoneInfo(zone, signal);
    const out: CfRecord[] = [];
    for (let page = 1; ; page++) {
      const res = await call(zone, 'listing records', () => client.dns.records.list({ zone_id: id, page, per_page: perPage }, { signal }), signal);
      const items = res.result as unknown as CfRecord[];
      out.push(...items);
      const info = res.result_info as { total_pages?: number };
      // total_pages is authoritative; without it, an empty page is the end (the SDK's own rule).
      const more = typeof info.total_pages === 'number' ? page < info.total_pages : items.length > 0;
      if (!more) break;
    }
    return out;
  }

  async function sendBatch(zone: string, zoneId: string, batch: CfBatch, signal: AbortSignal | undefined, onAttempt: () => void): Promise<void> {
    const body = {
      zone_id: zoneId,
      ...(batch.deletes.length ? { deletes: batch.deletes } : {}),
      ...(batch.patches.length ? { patches: batch.patches } : {}),
      ...(batch.posts.length ? { posts: batch.posts } : {}),
    } as unknown as Cloudflare.DNS.Records.RecordBatchParams;
    await call(zone, 'applying a record batch', () => { onAttempt(); return client.dns.records.batch(body, { signal }); }, signal);
  }

  return {
    kind: 'cloudflare',
    name: provider,
    capabilities: cloudflareCapabilities(batchSize),

    async listRecords(zone, signal) {
      return groupRecordSets(await listRaw(normalizeName(zone), signal));
    },

    async applyChanges(zoneArg, changes, signal): Promise<ApplyReport> {
      const zone = normalizeName(zoneArg);
      const report: ApplyReport = { provider, zone, applied: 0, requests: 0 };
      if (changes.length === 0) return report;
      const { id } = await zoneInfo(zone, signal);
      const byKey = new Map<string, CfRecord[]>();
      for (const r of await listRaw(zone, signal)) {
        const key = rrsetKey(r);
        byKey.set(key, [...(byKey.get(key) ?? []), r]);
      }
      const parts = changes.map((c: Change) => {
        const ref: RecordSet = c.action === 'create' ? c.after : c.before;
        return batchForChange(c, byKey.get(rrsetKey(ref)) ?? []);
      });
      for (const batch of packBatches(parts, batchSize)) {
        await sendBatch(zone, id, batch, signal, () => report.requests++);
      }
      report.applied = changes.length;
      return report;
    },

    writeRequests(_zone, changes) {
      return packBatches(changes.map(cloudflareOpsBound), batchSize).length;
    },

    async nameservers(zone) {
      return [...(await zoneInfo(zone)).nameServers];
    },
  };
}
