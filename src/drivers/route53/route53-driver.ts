/**
 * Amazon Route 53 driver, through the official `@aws-sdk/client-route-53`.
 * - RRset granularity. applyChanges reads the zone once (DELETE must repeat the current set verbatim), turns every
 *   change into Route 53 changes (update = DELETE current + CREATE new, in the same transactional batch) and sends
 *   them in ChangeResourceRecordSets batches of at most 100 changes / 1,000 records / 32,000 value characters.
 * - After the batches it polls GetChange until every change is INSYNC (propagated to all Route 53 name servers).
 * - SDK retries are off (maxAttempts 1); Throttling and PriorRequestNotComplete are retried by src/drivers/retry.ts.
 * - Credentials: the variables named in the settings when there are (key id, secret, optional session token), else
 *   the SDK's default credential chain (environment incl. session token, SSO, shared config/credentials with
 *   `profile`, web identity, container and instance roles). The hosted zone id is settings.hostedZoneId when it
 *   names this zone, else found with ListHostedZonesByName; cached.
 */
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type Change as R53Change,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { DriverError } from '../../domain/errors.ts';
import { normalizeName, rrsetKey, type ApplyReport, type RecordSet } from '../../domain/records.ts';
import type { DnsDriver, DriverContext } from '../dns-driver.ts';
import { withRetry, type RetryOptions } from '../retry.ts';
import { route53Capabilities } from './route53-capabilities.ts';
import { Route53AliasConflictError, toDriverError } from './route53-errors.ts';
import { changesFor, fromResourceRecordSet, fromRoute53Name, packChangeBatches, ROUTE53_LIMITS, toResourceRecordSet } from './route53-records.ts';
import type { Route53Settings } from './route53-settings.ts';

export interface Route53DriverOptions {
  retry?: RetryOptions;
  /** GetChange polling interval, ms (Route 53 says changes are INSYNC "generally within 60 seconds"). */
  pollIntervalMs?: number;
  /** Give up waiting for INSYNC after this long, ms. */
  pollTimeoutMs?: number;
  /** MaxItems per ListResourceRecordSets page (Route 53 allows up to 300). */
  pageSize?: number;
  /** Test hook: the limits used to split change batches. */
  limits?: { changes: number; records: number; chars: number };
}

interface ZoneInfo {
  id: string;
  nameServers?: string[];
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); }, { once: true });
  });

export function createRoute53Driver(ctx: DriverContext<Route53Settings>, opts: Route53DriverOptions = {}): DnsDriver {
  const provider = ctx.name;
  const named = ctx.settings.accessKeyIdEnv !== undefined && ctx.settings.secretAccessKeyEnv !== undefined;
  const accessKeyId = named ? (ctx.env[ctx.settings.accessKeyIdEnv!] ?? '') : '';
  const secretAccessKey = named ? (ctx.env[ctx.settings.secretAccessKeyEnv!] ?? '') : '';
  const sessionToken = ctx.settings.sessionTokenEnv ? ctx.env[ctx.settings.sessionTokenEnv] : undefined;
  const secrets = [secretAccessKey, sessionToken ?? '', ctx.env.AWS_SECRET_ACCESS_KEY ?? '', ctx.env.AWS_SESSION_TOKEN ?? ''];
  const pollInterval = opts.pollIntervalMs ?? 2000;
  const pollTimeout = opts.pollTimeoutMs ?? 180_000;
  const pageSize = opts.pageSize ?? 300;
  const limits = opts.limits ?? ROUTE53_LIMITS;
  const zones = new Map<string, ZoneInfo>();
  const client = new Route53Client({
    region: ctx.settings.region ?? 'us-east-1',
    ...(ctx.settings.endpoint ? { endpoint: ctx.settings.endpoint } : {}),
    // named variables: exactly those; otherwise the client's default chain (credential-provider-node)
    ...(named ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
    ...(!named && ctx.settings.profile ? { profile: ctx.settings.profile } : {}),
    maxAttempts: 1,
  });

  async function call<T>(zone: string, what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (named && (!accessKeyId || !secretAccessKey)) {
      const missing = !accessKeyId ? ctx.settings.accessKeyIdEnv : ctx.settings.secretAccessKeyEnv;
      throw new DriverError({ provider, zone, code: 'DRIVER_AUTH', message: `no AWS credentials: environment variable ${missing} is empty` });
    }
    return withRetry(async () => {
      try {
        return await fn();
      } catch (err) {
        throw toDriverError(err, { provider, zone, secrets, what });
      }
    }, { ...opts.retry, signal: signal ?? opts.retry?.signal });
  }

  async function zoneInfo(zone: string, signal?: AbortSignal): Promise<ZoneInfo> {
    const cached = zones.get(zone);
    if (cached) return cached;
    if (ctx.settings.hostedZoneId) {
      const hz = await call(zone, 'reading the hosted zone', () => client.send(new GetHostedZoneCommand({ Id: ctx.settings.hostedZoneId }), { abortSignal: signal }), signal);
      if (hz.HostedZone && fromRoute53Name(hz.HostedZone.Name ?? '') === zone) {
        const info = { id: stripId(hz.HostedZone.Id ?? ''), nameServers: hz.DelegationSet?.NameServers?.map(normalizeName) };
        zones.set(zone, info);
        return info;
      }
    }
    const res = await call(zone, 'looking up the hosted zone', () => client.send(new ListHostedZonesByNameCommand({ DNSName: `${zone}.`, MaxItems: 10 }), { abortSignal: signal }), signal);
    const public_ = (res.HostedZones ?? []).filter((z) => fromRoute53Name(z.Name ?? '') === zone && !z.Config?.PrivateZone);
    if (public_.length === 0) {
      throw new DriverError({ provider, zone, code: 'DRIVER_NOT_FOUND', message: `no public hosted zone named ${zone} in this account` });
    }
    if (public_.length > 1) {
      throw new DriverError({ provider, zone, code: 'DRIVER_FAILED', message: `${public_.length} public hosted zones are named ${zone}; set hostedZoneId to pick one` });
    }
    const info = { id: stripId(public_[0].Id ?? '') };
    zones.set(zone, info);
    return info;
  }

  async function listRaw(zone: string, signal?: AbortSignal): Promise<ResourceRecordSet[]> {
    const { id } = await zoneInfo(zone, signal);
    const out: ResourceRecordSet[] = [];
    let start: { name?: string; type?: string; identifier?: string } = {};
    for (;;) {
      const page = await call(zone, 'listing record sets', () =>
        client.send(new ListResourceRecordSetsCommand({
          HostedZoneId: id,
          MaxItems: pageSize,
          ...(start.name ? { StartRecordName: start.name } : {}),
          ...(start.type ? { StartRecordType: start.type as ResourceRecordSet['Type'] } : {}),
          ...(start.identifier ? { StartRecordIdentifier: start.identifier } : {}),
        }), { abortSignal: signal }), signal);
      out.push(...(page.ResourceRecordSets ?? []));
      if (!page.IsTruncated) break;
      start = { name: page.NextRecordName, type: page.NextRecordType, identifier: page.NextRecordIdentifier };
      if (!start.name) break;
    }
    return out;
  }

  async function waitInsync(zone: string, changeId: string, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + pollTimeout;
    for (;;) {
      const res = await call(zone, `polling change ${changeId}`, () => client.send(new GetChangeCommand({ Id: changeId }), { abortSignal: signal }), signal);
      if (res.ChangeInfo?.Status === 'INSYNC') return;
      if (Date.now() + pollInterval > deadline) {
        throw new DriverError({ provider, zone, code: 'DRIVER_FAILED', retryable: true, message: `change ${changeId} is applied but still PENDING after ${pollTimeout} ms` });
      }
      await sleep(pollInterval, signal);
    }
  }

  return {
    kind: 'route53',
    name: provider,
    capabilities: route53Capabilities,

    async listRecords(zoneArg, signal) {
      const zone = normalizeName(zoneArg);
      const out = new Map<string, RecordSet>();
      for (const r of await listRaw(zone, signal)) {
        const set = fromResourceRecordSet(r);
        if (!set) continue;
        // routing-policy sets share a name and type: one foreign RRset per name/type
        const k = rrsetKey(set);
        const seen = out.get(k);
        if (seen) seen.values.push(...set.values);
        else out.set(k, set);
      }
      return [...out.values()];
    },

    async applyChanges(zoneArg, changes, signal): Promise<ApplyReport> {
      const zone = normalizeName(zoneArg);
      const report: ApplyReport = { provider, zone, applied: 0, requests: 0 };
      if (changes.length === 0) return report;
      const { id } = await zoneInfo(zone, signal);
      const current = new Map<string, ResourceRecordSet>();
      const special = new Set<string>();
      for (const r of await listRaw(zone, signal)) {
        const key = rrsetKey({ name: fromRoute53Name(r.Name ?? ''), type: r.Type ?? '' });
        if (!r.SetIdentifier && !r.AliasTarget) current.set(key, r);
        else special.add(key);
      }
      // an alias at a name we write would make every batch fail the same way: say so once, send nothing
      const blocked = [...new Set(changes.filter((c) => c.action !== 'delete').map((c) => rrsetKey(c.after)).filter((k) => special.has(k)))];
      if (blocked.length) throw new Route53AliasConflictError({ provider, zone, names: blocked });
      const groups: R53Change[][] = changes.map((c) => changesFor(c, current.get(rrsetKey(c.action === 'create' ? c.after : c.before))));
      const ids: string[] = [];
      for (const batch of packChangeBatches(groups, limits)) {
        const res = await call(zone, 'changing record sets', () => {
          report.requests++; // every attempt, a throttled one too
          return client.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: id, ChangeBatch: { Comment: 'flotilla', Changes: batch } }), { abortSignal: signal });
        }, signal);
        if (res.ChangeInfo?.Id) ids.push(stripId(res.ChangeInfo.Id));
      }
      for (const changeId of ids) await waitInsync(zone, changeId, signal);
      report.applied = changes.length;
      if (ids.length) report.changeId = ids[ids.length - 1];
      return report;
    },

    writeRequests(_zone, changes) {
      // the plan's `before` is the RRset as listed: the same DELETE + CREATE groups applyChanges packs
      return packChangeBatches(changes.map((c) => changesFor(c, c.action === 'create' ? undefined : toResourceRecordSet(c.before))), limits).length;
    },

    async nameservers(zoneArg) {
      const zone = normalizeName(zoneArg);
      const info = await zoneInfo(zone);
      if (!info.nameServers) {
        const hz = await call(zone, 'reading the hosted zone', () => client.send(new GetHostedZoneCommand({ Id: info.id })));
        info.nameServers = (hz.DelegationSet?.NameServers ?? []).map(normalizeName);
      }
      return [...info.nameServers];
    },

    async close() {
      client.destroy();
    },
  };
}

function stripId(id: string): string {
  return id.replace(/^\/(hostedzone|change)\//, '');
}
