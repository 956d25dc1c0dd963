import { DriverError } from '../../domain/errors.ts';
import { normalizeName, RECORD_TYPES, rrsetKey, type ApplyReport, type Change, type RecordSet, type RecordType } from '../../domain/records.ts';
import { batchedWriteRequests, chunk, type DnsDriver, type DriverCapabilities, type DriverContext } from '../dns-driver.ts';
import { isRedirect, RedirectRefusedError } from '../redirect-refused.ts';
import { withRetry, type RetryOptions } from '../retry.ts';
import { fromPdnsContent, toPdnsContent } from './pdns-content.ts';
import { powerdnsCapabilities } from './powerdns-capabilities.ts';
import type { PowerdnsSettings } from './powerdns-settings.ts';

export interface PowerdnsDriverOptions {
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
  /** RRsets per PATCH; default capabilities.maxBatch (1000). */
  maxBatch?: number;
  retry?: RetryOptions;
}

/** The PowerDNS Authoritative API's RRset as it travels in GET and PATCH bodies. */
interface PdnsRrset {
  name: string;
  type: string;
  ttl?: number;
  changetype?: 'REPLACE' | 'DELETE';
  records?: { content: string; disabled: boolean }[];
}

/**
 * Driver for the PowerDNS Authoritative HTTP API (`/api/v1/servers/{server}/zones/{zone}`).
 * One PATCH carries up to maxBatch RRset changes and is applied by PowerDNS in one transaction.
 * The API key comes from ctx.env[settings.apiKeyEnv] and never appears in an error.
 */
export function createPowerdnsDriver(ctx: DriverContext<PowerdnsSettings>, opts: PowerdnsDriverOptions = {}): DnsDriver {
  const provider = ctx.name;
  const base = ctx.settings.url.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  const serverId = encodeURIComponent(ctx.settings.serverId ?? 'localhost');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const capabilities: DriverCapabilities = { ...powerdnsCapabilities, maxBatch: opts.maxBatch ?? powerdnsCapabilities.maxBatch };

  const zoneUrl = (zone: string) => `${base}/api/v1/servers/${serverId}/zones/${encodeURIComponent(`${zone}.`)}`;

  /** One HTTP exchange, every failure turned into a typed DriverError (retryable where a retry can help). */
  async function call(method: 'GET' | 'PATCH', zone: string, body: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    const apiKey = ctx.env[ctx.settings.apiKeyEnv];
    if (!apiKey) throw new DriverError({ code: 'DRIVER_AUTH', provider, zone, message: `environment variable ${ctx.settings.apiKeyEnv} (the API key) is not set` });
    const scrub = (s: string) => s.split(apiKey).join('***');
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(zoneUrl(zone), {
        method,
        headers: { 'X-API-Key': apiKey, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        redirect: 'manual',
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const what = timeout.aborted ? `no answer within ${timeoutMs} ms` : `request failed: ${scrub(String((err as Error)?.cause ?? err))}`;
      throw new DriverError({ code: 'DRIVER_FAILED', provider, zone, message: `${method} ${what}`, retryable: true, cause: err });
    }
    if (isRedirect(res.status)) {
      await res.body?.cancel().catch(() => undefined);
      throw new RedirectRefusedError({ provider, zone, method, status: res.status, location: res.headers.get('location'), setting: 'settings.url' });
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return text ? JSON.parse(text) : undefined;
    let detail = text;
    try {
      detail = String((JSON.parse(text) as { error?: unknown }).error ?? text);
    } catch {
      // plain-text body
    }
    detail = scrub(detail).slice(0, 300);
    const status = res.status;
    if (status === 401 || status === 403) {
      throw new DriverError({ code: 'DRIVER_AUTH', provider, zone, message: `the API rejected the key from ${ctx.settings.apiKeyEnv} (HTTP ${status})` });
    }
    if (status === 404 || (status === 422 && /could not find domain/i.test(detail))) {
      throw new DriverError({ code: 'DRIVER_NOT_FOUND', provider, zone, message: `zone ${zone} does not exist at server ${decodeURIComponent(serverId)} (HTTP ${status})` });
    }
    if (status === 429) {
      throw new DriverError({ code: 'DRIVER_RATE_LIMITED', provider, zone, message: `throttled (HTTP 429)`, retryable: true, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) });
    }
    throw new DriverError({ code: 'DRIVER_FAILED', provider, zone, message: `${method} failed: HTTP ${status} ${detail}`.trim(), retryable: status >= 500 });
  }

  const retrying = <T>(fn: () => Promise<T>, signal?: AbortSignal) => withRetry(fn, { ...opts.retry, signal });

  async function getZone(zone: string, signal?: AbortSignal): Promise<PdnsRrset[]> {
    const body = (await retrying(() => call('GET', zone, undefined, signal), signal)) as { rrsets?: PdnsRrset[] } | undefined;
    return body?.rrsets ?? [];
  }

  return {
    kind: 'powerdns',
    name: provider,
    capabilities,

    async listRecords(zoneName: string, signal?: AbortSignal): Promise<RecordSet[]> {
      const zone = normalizeName(zoneName);
      const out: RecordSet[] = [];
      for (const r of await getZone(zone, signal)) {
        if (!(RECORD_TYPES as readonly string[]).includes(r.type)) continue; // types flotilla never writes (DNSKEY, PTR...)
        const type = r.type as RecordType;
        const values = (r.records ?? []).filter((x) => !x.disabled).map((x) => fromPdnsContent(type, x.content));
        if (values.length === 0) continue;
        out.push({ name: normalizeName(r.name), type, ttl: r.ttl ?? 0, values });
      }
      return out;
    },

    async applyChanges(zoneName: string, changes: readonly Change[], signal?: AbortSignal): Promise<ApplyReport> {
      const zone = normalizeName(zoneName);
      let requests = 0;
      for (const batch of chunk(changes, capabilities.maxBatch)) {
        const rrsets = batch.flatMap(toPatch);
        await retrying(() => { requests++; return call('PATCH', zone, { rrsets }, signal); }, signal);
      }
      return { provider, zone, applied: changes.length, requests };
    },

    writeRequests(_zone: string, changes: readonly Change[]): number {
      return batchedWriteRequests(changes, capabilities.maxBatch);
    },

    async nameservers(zoneName: string): Promise<string[]> {
      if (ctx.settings.nameservers?.length) return [...ctx.settings.nameservers];
      const zone = normalizeName(zoneName);
      const ns = (await getZone(zone)).find((r) => r.type === 'NS' && normalizeName(r.name) === zone);
      return (ns?.records ?? []).filter((x) => !x.disabled).map((x) => normalizeName(x.content));
    },
  };
}

/** A flotilla change as PATCH RRsets: REPLACE with the full value set, or DELETE. */
function toPatch(c: Change): PdnsRrset[] {
  if (c.action === 'delete') return [{ name: `${normalizeName(c.before.name)}.`, type: c.before.type, changetype: 'DELETE' }];
  const a = c.after;
  const replace: PdnsRrset = {
    name: `${normalizeName(a.name)}.`,
    type: a.type,
    ttl: a.ttl,
    changetype: 'REPLACE',
    records: [...new Set(a.values.map((v) => toPdnsContent(a.type, v)))].map((content) => ({ content, disabled: false })),
  };
  if (c.action === 'update' && rrsetKey(c.before) !== rrsetKey(a)) {
    return [{ name: `${normalizeName(c.before.name)}.`, type: c.before.type, changetype: 'DELETE' }, replace];
  }
  return [replace];
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
