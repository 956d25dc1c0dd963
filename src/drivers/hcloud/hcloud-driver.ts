/**
 * Hetzner DNS driver, through the Hetzner Cloud API (`https://api.hetzner.cloud/v1`, zones and rrsets) — the
 * current Hetzner DNS API; the old dns.hetzner.com API is not used. There is no official JavaScript SDK, so
 * hcloud-api.ts speaks HTTP with fetch.
 * - RRset granularity, one RRset per request (no batch endpoint): create = POST /zones/{zone}/rrsets, update =
 *   POST …/rrsets/{name}/{type}/actions/set_records (and …/change_ttl when the TTL changes), delete = DELETE
 *   …/rrsets/{name}/{type}. Not atomic across RRsets. Running actions are followed until they finish.
 * - Lists follow `meta.pagination.next_page`. 429 waits for RateLimit-Reset (src/drivers/retry.ts).
 * - nameservers(zone) = the zone's `authoritative_nameservers.assigned`.
 */
import { normalizeName, normalizeValue, type ApplyReport, type Change, type RecordSet } from '../../domain/records.ts';
import type { DnsDriver, DriverContext } from '../dns-driver.ts';
import type { RetryOptions } from '../retry.ts';
import { createHcloudApi, type HcloudAction } from './hcloud-api.ts';
import { hcloudCapabilities } from './hcloud-capabilities.ts';
import { fromHcloudRRSet, toHcloudRecords, toRelativeName, type HcloudRRSet } from './hcloud-records.ts';
import type { HcloudSettings } from './hcloud-settings.ts';

export const HCLOUD_DEFAULT_ENDPOINT = 'https://api.hetzner.cloud/v1';

export interface HcloudDriverOptions {
  retry?: RetryOptions;
  /** rrsets per list page (the API allows up to 50). */
  perPage?: number;
  actionPollMs?: number;
  actionTimeoutMs?: number;
  timeoutMs?: number;
}

interface HcloudZone {
  id: number;
  name: string;
  ttl: number;
  authoritative_nameservers?: { assigned?: string[]; delegated?: string[] };
}

interface Pagination {
  meta?: { pagination?: { next_page?: number | null } };
}

function sameValues(a: RecordSet, b: RecordSet): boolean {
  const norm = (r: RecordSet) => [...new Set(r.values.map((v) => normalizeValue(r.type, v)))].sort().join('\n');
  return norm(a) === norm(b);
}

/** Requests one change takes: create and delete one each; an update one per thing that changes (records, TTL). */
export function hcloudWrites(c: Change): number {
  if (c.action !== 'update') return 1;
  return (sameValues(c.before, c.after) ? 0 : 1) + (c.before.ttl !== c.after.ttl ? 1 : 0);
}

export function createHcloudDriver(ctx: DriverContext<HcloudSettings>, opts: HcloudDriverOptions = {}): DnsDriver {
  const provider = ctx.name;
  const perPage = opts.perPage ?? 50;
  const api = createHcloudApi({
    endpoint: ctx.settings.endpoint ?? HCLOUD_DEFAULT_ENDPOINT,
    token: ctx.env[ctx.settings.tokenEnv] ?? '',
    tokenEnv: ctx.settings.tokenEnv,
    provider,
    retry: opts.retry,
    actionPollMs: opts.actionPollMs,
    actionTimeoutMs: opts.actionTimeoutMs,
    timeoutMs: opts.timeoutMs,
  });
  const zones = new Map<string, HcloudZone>();

  async function zoneInfo(zone: string, signal?: AbortSignal): Promise<HcloudZone> {
    const cached = zones.get(zone);
    if (cached) return cached;
    const res = await api.request<{ zone: HcloudZone }>(zone, 'looking up the zone', 'GET', `/zones/${encodeURIComponent(zone)}`, undefined, { signal });
    if (!res) throw new Error('unreachable: zone lookup returned nothing');
    zones.set(zone, res.zone);
    return res.zone;
  }

  const rrsetPath = (zone: string, r: RecordSet) => `/zones/${encodeURIComponent(zone)}/rrsets/${encodeURIComponent(toRelativeName(r.name, zone))}/${r.type}`;

  return {
    kind: 'hcloud',
    name: provider,
    capabilities: hcloudCapabilities,

    async listRecords(zoneArg, signal) {
      const zone = normalizeName(zoneArg);
      const z = await zoneInfo(zone, signal);
      const out: RecordSet[] = [];
      for (let page: number | null | undefined = 1; page; ) {
        const res: ({ rrsets: HcloudRRSet[] } & Pagination) | undefined = await api.request(zone, 'listing rrsets', 'GET', `/zones/${encodeURIComponent(zone)}/rrsets?page=${page}&per_page=${perPage}`, undefined, { signal });
        for (const r of res?.rrsets ?? []) {
          const set = fromHcloudRRSet(r, zone, z.ttl);
          if (set) out.push(set);
        }
        page = res?.meta?.pagination?.next_page;
      }
      return out;
    },

    async applyChanges(zoneArg, changes, signal): Promise<ApplyReport> {
      const zone = normalizeName(zoneArg);
      const report: ApplyReport = { provider, zone, applied: 0, requests: 0 };
      if (changes.length === 0) return report;
      await zoneInfo(zone, signal);
      const write = async (what: string, method: string, path: string, body?: unknown, okStatuses?: number[]) => {
        // every attempt is an HTTP request the account pays for, a throttled one too
        const res = await api.request<{ action?: HcloudAction }>(zone, what, method, path, body, { signal, okStatuses, onAttempt: () => report.requests++ });
        await api.waitAction(zone, res?.action, signal);
      };
      for (const c of changes) {
        if (c.action === 'create') {
          const r = c.after;
          await write(`creating ${r.name}/${r.type}`, 'POST', `/zones/${encodeURIComponent(zone)}/rrsets`, {
            name: toRelativeName(r.name, zone),
            type: r.type,
            ttl: r.ttl,
            records: toHcloudRecords(r),
          });
        } else if (c.action === 'update') {
          const r = c.after;
          // hcloudWrites counts these two requests
          if (!sameValues(c.before, r)) await write(`setting records of ${r.name}/${r.type}`, 'POST', `${rrsetPath(zone, r)}/actions/set_records`, { records: toHcloudRecords(r) });
          if (c.before.ttl !== r.ttl) await write(`changing the TTL of ${r.name}/${r.type}`, 'POST', `${rrsetPath(zone, r)}/actions/change_ttl`, { ttl: r.ttl });
        } else {
          // an RRset that is already gone is what we wanted
          await write(`deleting ${c.before.name}/${c.before.type}`, 'DELETE', rrsetPath(zone, c.before), undefined, [404]);
        }
        report.applied++;
      }
      return report;
    },

    writeRequests(_zone, changes) {
      return changes.reduce((n, c) => n + hcloudWrites(c), 0);
    },

    async nameservers(zoneArg) {
      const z = await zoneInfo(normalizeName(zoneArg));
      return (z.authoritative_nameservers?.assigned ?? []).map(normalizeName);
    },
  };
}
