/**
 * Contract fake of the Hetzner Cloud API's DNS part (zones, rrsets, actions), a real HTTP server on 127.0.0.1.
 *
 * Follows (looked up, not guessed): the Hetzner Cloud API reference (docs.hetzner.cloud: the general sections
 * Errors, Actions, Pagination and Rate Limiting, and the "Zones" / "Zone RRSets" operations) as mirrored by the
 * official hcloud-go client (hcloud/schema/zone.go, zone_rrset.go, action.go, meta.go, error.go,
 * client_handler_rate_limit.go):
 * - GET /v1/zones?name=&page=&per_page= → `{ zones, meta: { pagination } }`; GET /v1/zones/{id_or_name} → `{ zone }`
 *   with `ttl`, `mode`, `status`, `record_count`, `authoritative_nameservers: { assigned, delegated,
 *   delegation_last_check, delegation_status }`;
 * - GET /v1/zones/{id_or_name}/rrsets?name=&type=&page=&per_page= → `{ rrsets, meta }`, rrset
 *   `{ id: "<name>/<type>", name, type, ttl|null, labels, protection: { change }, records: [{ value, comment }], zone }`;
 * - POST /v1/zones/{id_or_name}/rrsets `{ name, type, ttl, labels, records }` → `{ rrset, action }`;
 *   DELETE /v1/zones/{z}/rrsets/{name}/{type} → `{ action }`; POST …/rrsets/{name}/{type}/actions/
 *   set_records `{ records }`, add_records `{ records, ttl }`, remove_records `{ records }`, change_ttl `{ ttl }`
 *   → `{ action }`; GET /v1/zones/actions/{id} → `{ action }` (status running|success|error);
 * - rrset names: lower case, no trailing dot, never ending with the zone name, `@` for the apex; TXT values "must
 *   consist of one or many quoted strings of 255 characters"; SOA and NS at the apex are made by the API;
 * - pagination `meta.pagination { page, per_page, previous_page, next_page, last_page, total_entries }`
 *   (per_page default 25, max 50);
 * - auth `Authorization: Bearer <token>`, else 401 `unauthorized`; errors `{ error: { code, message, details } }`
 *   (documented pairs used here: 401 `unauthorized`, 404 `not_found`, 409 `uniqueness_error`, 422 `invalid_input`,
 *   423 `protected`, 429 `rate_limit_exceeded`, 400 `json_error`); every response has `RateLimit-Limit` (per hour),
 *   `RateLimit-Remaining`, `RateLimit-Reset` (UNIX time of full recovery); "the number of remaining requests
 *   increases gradually ... by 1 every second" at the default 3600/hour per project.
 * The API has no multi-RRset request, so there is no batch size to reject. Deliberate test deviations: per_page is
 * capped at `pageSize` (default 3) so a driver that ignores pagination fails; action command names are the fake's.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { RecordSet } from '../../src/domain/records.ts';

export interface HcloudFakeOptions {
  token: string;
  zones: (string | { name: string; ttl?: number; nameservers?: string[] })[];
  pageSize?: number;
  /** How long actions stay `running` (0 = finished at once). */
  actionDelayMs?: number;
  /** Seconds until RateLimit-Reset on injected throttling. */
  retryAfterSeconds?: number;
  rateLimit?: number;
}

interface StoredRRSet {
  name: string;
  type: string;
  ttl: number | null;
  labels: Record<string, string>;
  protection: { change: boolean };
  records: { value: string; comment: string }[];
}

interface FakeZone {
  id: number;
  name: string;
  ttl: number;
  nameservers: string[];
  created: string;
  rrsets: Map<string, StoredRRSet>;
}

interface FakeAction {
  id: number;
  command: string;
  started: number;
  zoneId: number;
}

export interface HcloudFake {
  url: string;
  stop(): Promise<void>;
  seed(zone: string, record: RecordSet): void;
  /** The next `n` write requests get 429 rate_limit_exceeded. */
  injectThrottle(n: number): void;
  readonly requests: number;
  readonly writes: number;
  readonly actionPolls: number;
  rrsets(zone: string): StoredRRSet[];
}

class HcHttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details: unknown = null) {
    super(message);
  }
}

const TYPES = new Set(['A', 'AAAA', 'CAA', 'CNAME', 'DS', 'HINFO', 'HTTPS', 'MX', 'NS', 'PTR', 'RP', 'SOA', 'SRV', 'SVCB', 'TLSA', 'TXT']);

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new HcHttpError(400, 'json_error', 'invalid JSON in request body');
  }
}

function invalid(field: string, message: string): HcHttpError {
  return new HcHttpError(422, 'invalid_input', `invalid input in field '${field}'`, { fields: [{ name: field, messages: [message] }] });
}

export async function startHcloudFake(opts: HcloudFakeOptions): Promise<HcloudFake> {
  const pageSize = opts.pageSize ?? 3;
  const actionDelay = opts.actionDelayMs ?? 0;
  const retryAfter = opts.retryAfterSeconds ?? 1;
  const limit = opts.rateLimit ?? 3600;
  const zones = new Map<number, FakeZone>();
  const actions = new Map<number, FakeAction>();
  let nextId = 1000;
  let requests = 0;
  let writes = 0;
  let actionPolls = 0;
  let throttle = 0;
  let bucket = limit;
  let bucketAt = Date.now();

  for (const z of opts.zones) {
    const spec = typeof z === 'string' ? { name: z } : z;
    const name = spec.name.toLowerCase().replace(/\.$/, '');
    const ns = spec.nameservers ?? ['hydrogen.ns.hetzner.com.', 'oxygen.ns.hetzner.com.', 'helium.ns.hetzner.de.'];
    const zone: FakeZone = { id: nextId++, name, ttl: 3600, nameservers: ns, created: new Date().toISOString(), rrsets: new Map() };
    zone.rrsets.set('@/SOA', { name: '@', type: 'SOA', ttl: null, labels: {}, protection: { change: false }, records: [{ value: `${ns[0]} dns.hetzner.com. 2026010100 86400 10800 3600000 3600`, comment: '' }] });
    zone.rrsets.set('@/NS', { name: '@', type: 'NS', ttl: null, labels: {}, protection: { change: false }, records: ns.map((n) => ({ value: n, comment: '' })) });
    if (typeof z !== 'string' && z.ttl) zone.ttl = z.ttl;
    zones.set(zone.id, zone);
  }

  const findZone = (idOrName: string) => (/^\d+$/.test(idOrName) ? zones.get(Number(idOrName)) : [...zones.values()].find((z) => z.name === idOrName.toLowerCase()));

  function rateHeaders(): Record<string, string> {
    const reset = Math.ceil(Date.now() / 1000 + (limit - bucket));
    return { 'ratelimit-limit': String(limit), 'ratelimit-remaining': String(Math.max(0, Math.floor(bucket))), 'ratelimit-reset': String(reset) };
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = rateHeaders()) {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  function zoneJson(z: FakeZone) {
    return {
      id: z.id,
      name: z.name,
      created: z.created,
      ttl: z.ttl,
      mode: 'primary',
      primary_nameservers: [],
      protection: { delete: false },
      labels: {},
      authoritative_nameservers: { assigned: z.nameservers, delegated: z.nameservers, delegation_last_check: z.created, delegation_status: 'valid' },
      registrar: 'other',
      status: 'ok',
      record_count: [...z.rrsets.values()].reduce((n, r) => n + r.records.length, 0),
    };
  }

  function rrsetJson(z: FakeZone, r: StoredRRSet) {
    return { id: `${r.name}/${r.type}`, name: r.name, type: r.type, ttl: r.ttl, labels: r.labels, protection: r.protection, records: r.records, zone: z.id };
  }

  function actionJson(a: FakeAction) {
    const done = Date.now() - a.started >= actionDelay;
    return {
      id: a.id,
      command: a.command,
      status: done ? 'success' : 'running',
      progress: done ? 100 : 50,
      started: new Date(a.started).toISOString(),
      finished: done ? new Date(a.started + actionDelay).toISOString() : null,
      resources: [{ id: a.zoneId, type: 'zone' }],
      error: null,
    };
  }

  function newAction(z: FakeZone, command: string) {
    const a: FakeAction = { id: nextId++, command, started: Date.now(), zoneId: z.id };
    actions.set(a.id, a);
    return actionJson(a);
  }

  function paginate<T>(items: T[], url: URL) {
    const per = Math.min(Math.max(Number(url.searchParams.get('per_page') ?? 25) || 25, 1), 50, pageSize);
    const page = Math.max(Number(url.searchParams.get('page') ?? 1) || 1, 1);
    const last = Math.max(1, Math.ceil(items.length / per));
    return {
      slice: items.slice((page - 1) * per, page * per),
      meta: { pagination: { page, per_page: per, previous_page: page > 1 ? page - 1 : null, next_page: page < last ? page + 1 : null, last_page: last, total_entries: items.length } },
    };
  }

  function checkName(name: unknown, zone: FakeZone): string {
    if (typeof name !== 'string' || name === '') throw invalid('name', 'is required');
    if (name !== name.toLowerCase()) throw invalid('name', 'must be lower case');
    if (name.endsWith('.')) throw invalid('name', 'must not end with a dot');
    if (name === zone.name || name.endsWith(`.${zone.name}`)) throw invalid('name', 'must not end with the zone name');
    return name;
  }

  function checkRecords(type: string, records: unknown): { value: string; comment: string }[] {
    if (!Array.isArray(records)) throw invalid('records', 'must be a list');
    return records.map((r: { value?: unknown; comment?: unknown }) => {
      const value = typeof r?.value === 'string' ? r.value : '';
      if (!value) throw invalid('records', 'value is required');
      if (type === 'A' && !isIPv4(value)) throw invalid('records', `${value} is not a valid IPv4 address`);
      if (type === 'AAAA' && !isIPv6(value)) throw invalid('records', `${value} is not a valid IPv6 address`);
      if (type === 'TXT' && !/^"(?:[^"\\]|\\.){0,255}"(?:\s+"(?:[^"\\]|\\.){0,255}")*$/.test(value)) {
        throw invalid('records', 'TXT values must consist of one or many quoted strings of 255 characters');
      }
      return { value, comment: typeof r?.comment === 'string' ? r.comment : '' };
    });
  }

  function checkTtl(ttl: unknown): number | null {
    if (ttl === undefined || ttl === null) return null;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 60 || ttl > 2147483647) throw invalid('ttl', 'must be an integer of at least 60');
    return ttl;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests++;
    const method = req.method ?? 'GET';
    const isWrite = method !== 'GET';
    if (isWrite) writes++;
    const auth = req.headers.authorization;
    if (!auth || auth !== `Bearer ${opts.token}`) throw new HcHttpError(401, 'unauthorized', 'unable to authenticate');

    const now = Date.now();
    bucket = Math.min(limit, bucket + (now - bucketAt) / 1000); // refilled one request per second
    bucketAt = now;
    if (isWrite && throttle > 0) {
      throttle--;
      const reset = Math.ceil(now / 1000) + retryAfter;
      throw Object.assign(new HcHttpError(429, 'rate_limit_exceeded', `limit of ${limit} requests per hour reached`), {
        headers: { 'ratelimit-limit': String(limit), 'ratelimit-remaining': '0', 'ratelimit-reset': String(reset) },
      });
    }
    if (bucket < 1) throw new HcHttpError(429, 'rate_limit_exceeded', `limit of ${limit} requests per hour reached`);
    bucket -= 1;

    const url = new URL(req.url ?? '/', 'http://fake');
    const parts = url.pathname.replace(/^\/v1/, '').split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'zones') throw new HcHttpError(404, 'not_found', 'not found');

    if (parts.length === 1 && method === 'GET') {
      const name = url.searchParams.get('name');
      const list = [...zones.values()].filter((z) => !name || z.name === name);
      const { slice, meta } = paginate(list, url);
      return send(res, 200, { zones: slice.map(zoneJson), meta });
    }
    if (parts[1] === 'actions' && parts.length === 3 && method === 'GET') {
      actionPolls++;
      const a = actions.get(Number(parts[2]));
      if (!a) throw new HcHttpError(404, 'not_found', 'action not found');
      return send(res, 200, { action: actionJson(a) });
    }
    const zone = findZone(parts[1] ?? '');
    if (!zone) throw new HcHttpError(404, 'not_found', 'zone not found');
    if (parts.length === 2 && method === 'GET') return send(res, 200, { zone: zoneJson(zone) });
    if (parts[2] !== 'rrsets') throw new HcHttpError(404, 'not_found', 'not found');

    if (parts.length === 3) {
      if (method === 'GET') {
        const name = url.searchParams.get('name');
        const types = url.searchParams.getAll('type');
        const list = [...zone.rrsets.values()]
          .filter((r) => (!name || r.name === name) && (types.length === 0 || types.includes(r.type)))
          .sort((a, b) => (a.name === b.name ? (a.type < b.type ? -1 : 1) : a.name < b.name ? -1 : 1));
        const { slice, meta } = paginate(list, url);
        return send(res, 200, { rrsets: slice.map((r) => rrsetJson(zone, r)), meta });
      }
      if (method === 'POST') {
        const body = await readJson(req);
        const name = checkName(body.name, zone);
        const type = String(body.type ?? '');
        if (!TYPES.has(type) || type === 'SOA') throw invalid('type', `unsupported type ${type}`);
        const key = `${name}/${type}`;
        if (zone.rrsets.has(key)) throw new HcHttpError(409, 'uniqueness_error', 'rrset with the same name and type already exists');
        const records = checkRecords(type, body.records ?? []);
        const ttl = checkTtl(body.ttl);
        if (type === 'CNAME' ? [...zone.rrsets.values()].some((r) => r.name === name) : zone.rrsets.has(`${name}/CNAME`)) {
          throw new HcHttpError(409, 'uniqueness_error', 'a CNAME rrset cannot share its name with other rrsets');
        }
        const r: StoredRRSet = { name, type, ttl, labels: (body.labels as Record<string, string>) ?? {}, protection: { change: false }, records };
        zone.rrsets.set(key, r);
        return send(res, 201, { rrset: rrsetJson(zone, r), action: newAction(zone, 'create_rrset') });
      }
    }
    if (parts.length >= 5) {
      const [name, type] = [parts[3], parts[4]];
      const r = zone.rrsets.get(`${name}/${type}`);
      if (!r) throw new HcHttpError(404, 'not_found', 'rrset not found');
      if (parts.length === 5) {
        if (method === 'GET') return send(res, 200, { rrset: rrsetJson(zone, r) });
        if (method === 'DELETE') {
          if (r.protection.change) throw new HcHttpError(423, 'protected', 'rrset is protected');
          zone.rrsets.delete(`${name}/${type}`);
          return send(res, 201, { action: newAction(zone, 'delete_rrset') });
        }
      }
      if (parts.length === 7 && parts[5] === 'actions' && method === 'POST') {
        const body = await readJson(req);
        switch (parts[6]) {
          case 'set_records':
            r.records = checkRecords(type, body.records);
            if (r.records.length === 0) throw invalid('records', 'must not be empty');
            return send(res, 201, { action: newAction(zone, 'set_rrset_records') });
          case 'add_records': {
            const add = checkRecords(type, body.records);
            for (const a of add) if (!r.records.some((x) => x.value === a.value)) r.records.push(a);
            if (body.ttl !== undefined) r.ttl = checkTtl(body.ttl);
            return send(res, 201, { action: newAction(zone, 'add_rrset_records') });
          }
          case 'remove_records': {
            const drop = new Set(checkRecords(type, body.records).map((x) => x.value));
            r.records = r.records.filter((x) => !drop.has(x.value));
            if (r.records.length === 0) zone.rrsets.delete(`${name}/${type}`); // an empty RRset does not exist
            return send(res, 201, { action: newAction(zone, 'remove_rrset_records') });
          }
          case 'change_ttl':
            r.ttl = checkTtl(body.ttl);
            return send(res, 201, { action: newAction(zone, 'change_rrset_ttl') });
        }
      }
    }
    throw new HcHttpError(404, 'not_found', 'not found');
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const e = err instanceof HcHttpError ? err : new HcHttpError(500, 'server_error', 'internal error');
      const headers = (e as HcHttpError & { headers?: Record<string, string> }).headers ?? rateHeaders();
      send(res, e.status, { error: { code: e.code, message: e.message, details: e.details } }, headers);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const byName = (zone: string) => [...zones.values()].find((z) => z.name === zone.toLowerCase().replace(/\.$/, ''));

  return {
    url: `http://127.0.0.1:${port}/v1`,
    stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    seed(zoneName, rs) {
      const zone = byName(zoneName);
      if (!zone) throw new Error(`fake has no zone ${zoneName}`);
      const n = rs.name.toLowerCase().replace(/\.$/, '');
      const rel = n === zone.name ? '@' : n.slice(0, -(zone.name.length + 1));
      const values = rs.values.map((v) => (rs.type === 'TXT' ? `"${v.replace(/(["\\])/g, '\\$1')}"` : ['CNAME', 'NS'].includes(rs.type) ? `${v.replace(/\.$/, '')}.` : v));
      zone.rrsets.set(`${rel}/${rs.type}`, { name: rel, type: rs.type, ttl: rs.ttl, labels: {}, protection: { change: false }, records: values.map((value) => ({ value, comment: '' })) });
    },
    injectThrottle(n) { throttle += n; },
    get requests() { return requests; },
    get writes() { return writes; },
    get actionPolls() { return actionPolls; },
    rrsets: (zone) => [...(byName(zone)?.rrsets.values() ?? [])].map((r) => ({ ...r, records: r.records.map((x) => ({ ...x })) })),
  };
}
