/**
 * Contract fake of the Cloudflare API v4 (zones + DNS records), a real HTTP server on 127.0.0.1.
 *
 * Follows (looked up, not guessed):
 * - Cloudflare API schema for dns-records as shipped in the official `cloudflare` SDK v7 (resources/dns/records):
 *   GET/POST /zones/{zone_id}/dns_records, GET/PATCH/PUT/DELETE /zones/{zone_id}/dns_records/{id},
 *   POST /zones/{zone_id}/dns_records/batch with `deletes`, `patches`, `puts`, `posts`
 *   ("always executed in the following order: Deletes, Patches, Puts, Posts", one database transaction);
 *   result `{ deletes, patches, puts, posts }`; list pagination `page`/`per_page` + `result_info`
 *   `{ page, per_page, count, total_count, total_pages }`; GET /zones?name= → zones with `name_servers`.
 *   TXT content "must consist of quoted character strings (RFC 1035)"; TTL 1 = automatic, else 60..86400.
 * - developers.cloudflare.com/dns/manage-dns-records/how-to/batch-record-changes: records per batch action
 *   Free 200, Pro/Business/Enterprise 3,500 (the fake REJECTS a larger batch; the doc does not publish the error
 *   body, so it answers 400 with the usual envelope and code 1004).
 * - developers.cloudflare.com/fundamentals/api/reference/limits: 1200 requests / 5 min per token; breaching it
 *   blocks ALL calls for the rest of the window with HTTP 429; headers `Ratelimit` ("default";r=..;t=..),
 *   `Ratelimit-Policy` ("burst";q=..;w=..), and `retry-after` (seconds, rounded up) only on 429.
 * - Error envelope `{ success:false, errors:[{code,message}], messages:[], result:null }`; 403 + 10000
 *   "Authentication error" for a token it does not accept; 400 + 6003 "Invalid request headers" (chain 6111) for a
 *   missing/malformed Authorization header; 400 + 7003 "Could not route to ..., perhaps your object identifier is
 *   invalid?" + 7000 for an unknown zone id; 429 body code 971 "Please wait and consider throttling your request
 *   speed"; 81058 "An identical record already exists."; 9005/9006 invalid A/AAAA content (public reports).
 * Deliberate test deviations: per_page is capped at `pageSize` (default 20) so a driver that ignores pagination
 * fails; `injectThrottle(n)` answers the next n writes with 429 as if the window were exhausted.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { RecordSet } from '../../src/domain/records.ts';

export interface CloudflareFakeZone {
  name: string;
  id?: string;
  nameServers?: string[];
}

export interface CloudflareFakeOptions {
  /** The API token the fake accepts (Authorization: Bearer <token>). */
  token: string;
  zones: (string | CloudflareFakeZone)[];
  /** Largest per_page honoured. */
  pageSize?: number;
  /** Records per batch action (Free plan: 200). */
  batchLimit?: number;
  /** Seconds sent in retry-after on injected throttling. */
  retryAfterSeconds?: number;
  /** Real rate limit window. */
  rateLimit?: { requests: number; windowMs: number };
}

export interface StoredCfRecord {
  id: string;
  zone_id: string;
  zone_name: string;
  name: string;
  type: string;
  content: string;
  ttl: number;
  proxied: boolean;
  proxiable: boolean;
  priority?: number;
  comment: string | null;
  tags: string[];
  settings: Record<string, unknown>;
  meta: Record<string, unknown>;
  created_on: string;
  modified_on: string;
}

export interface CloudflareFake {
  url: string;
  stop(): Promise<void>;
  /** Puts a record set straight into the zone (TXT stored unquoted, as older records are). */
  seed(zone: string, record: RecordSet): void;
  /** The next `n` write requests get 429 with retry-after. */
  injectThrottle(n: number): void;
  /** All HTTP requests received. */
  readonly requests: number;
  /** Write requests received (POST/PATCH/PUT/DELETE), throttled ones included. */
  readonly writes: number;
  /** Record counts of every accepted batch, in order. */
  readonly batches: number[];
  records(zone: string): StoredCfRecord[];
}

class CfHttpError extends Error {
  constructor(readonly status: number, readonly errors: { code: number; message: string; error_chain?: unknown[] }[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}

const SUPPORTED = new Set(['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'NS', 'CAA', 'SRV']);
const PROXIABLE = new Set(['A', 'AAAA', 'CNAME']);

function hexId(): string {
  return randomBytes(16).toString('hex');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function lower(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

export async function startCloudflareFake(opts: CloudflareFakeOptions): Promise<CloudflareFake> {
  const pageSize = opts.pageSize ?? 20;
  const batchLimit = opts.batchLimit ?? 200;
  const retryAfter = opts.retryAfterSeconds ?? 1;
  const limit = opts.rateLimit ?? { requests: 1200, windowMs: 5 * 60_000 };
  const zones = new Map<string, { id: string; name: string; nameServers: string[]; records: StoredCfRecord[] }>();
  for (const z of opts.zones) {
    const spec = typeof z === 'string' ? { name: z } : z;
    const id = spec.id ?? hexId();
    zones.set(id, { id, name: lower(spec.name), nameServers: spec.nameServers ?? ['ada.ns.cloudflare.com', 'bob.ns.cloudflare.com'], records: [] });
  }
  let requests = 0;
  let writes = 0;
  let throttle = 0;
  const batches: number[] = [];
  let windowStart = Date.now();
  let windowCount = 0;
  let lockedUntil = 0;

  const zoneByName = (name: string) => [...zones.values()].find((z) => z.name === lower(name));

  function envelope(result: unknown, extra: Record<string, unknown> = {}) {
    return { success: true, errors: [], messages: [], result, ...extra };
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  function rateHeaders(): Record<string, string> {
    const left = Math.max(0, limit.requests - windowCount);
    const t = Math.max(0, Math.ceil((windowStart + limit.windowMs - Date.now()) / 1000));
    return { ratelimit: `"default";r=${left};t=${t}`, 'ratelimit-policy': `"burst";q=${limit.requests};w=${Math.round(limit.windowMs / 1000)}` };
  }

  function makeRecord(zone: { id: string; name: string }, body: Record<string, unknown>, id = hexId()): StoredCfRecord {
    const now = new Date().toISOString();
    const type = String(body.type ?? '');
    let name = lower(String(body.name ?? ''));
    if (name === '@' || name === '') name = zone.name;
    else if (name !== zone.name && !name.endsWith(`.${zone.name}`)) name = `${name}.${zone.name}`;
    const rec: StoredCfRecord = {
      id,
      zone_id: zone.id,
      zone_name: zone.name,
      name,
      type,
      content: String(body.content ?? ''),
      ttl: body.ttl === undefined ? 1 : Number(body.ttl),
      proxied: body.proxied === true,
      proxiable: PROXIABLE.has(type),
      comment: typeof body.comment === 'string' ? body.comment : null,
      tags: [],
      settings: {},
      meta: {},
      created_on: now,
      modified_on: now,
    };
    if (body.priority !== undefined) rec.priority = Number(body.priority);
    return rec;
  }

  function validate(rec: StoredCfRecord, others: StoredCfRecord[]): void {
    if (!SUPPORTED.has(rec.type)) throw new CfHttpError(400, [{ code: 1004, message: `DNS Validation Error: unsupported record type ${rec.type}` }]);
    if (!(rec.ttl === 1 || (Number.isInteger(rec.ttl) && rec.ttl >= 60 && rec.ttl <= 86400))) {
      throw new CfHttpError(400, [{ code: 1004, message: 'DNS Validation Error: TTL must be between 60 and 86400 seconds, or 1 for Automatic' }]);
    }
    if (rec.type === 'A' && !isIPv4(rec.content)) throw new CfHttpError(400, [{ code: 9005, message: 'Content for A record must be a valid IPv4 address.' }]);
    if (rec.type === 'AAAA' && !isIPv6(rec.content)) throw new CfHttpError(400, [{ code: 9006, message: 'Content for AAAA record must be a valid IPv6 address.' }]);
    if (rec.type === 'MX' && !Number.isInteger(rec.priority)) throw new CfHttpError(400, [{ code: 1004, message: 'DNS Validation Error: MX records need a priority' }]);
    if (rec.proxied && !rec.proxiable) throw new CfHttpError(400, [{ code: 9004, message: 'This record type cannot be proxied.' }]);
    const same = others.filter((o) => o.id !== rec.id && o.name === rec.name);
    if (same.some((o) => o.type === rec.type && o.content === rec.content && (o.priority ?? null) === (rec.priority ?? null))) {
      throw new CfHttpError(400, [{ code: 81058, message: 'An identical record already exists.' }]);
    }
    if ((rec.type === 'CNAME' && same.length > 0) || (rec.type !== 'CNAME' && same.some((o) => o.type === 'CNAME'))) {
      throw new CfHttpError(400, [{ code: 81053, message: 'An A, AAAA, or CNAME record with that host already exists.' }]);
    }
  }

  function findRecord(list: StoredCfRecord[], id: string): StoredCfRecord {
    const r = list.find((x) => x.id === id);
    if (!r) throw new CfHttpError(404, [{ code: 81044, message: 'Record does not exist.' }]);
    return r;
  }

  function patchRecord(zone: { id: string; name: string }, list: StoredCfRecord[], id: string, body: Record<string, unknown>, replace: boolean): StoredCfRecord {
    const old = findRecord(list, id);
    const merged = replace ? makeRecord(zone, body, id) : makeRecord(zone, { ...old, ...body }, id);
    merged.created_on = old.created_on;
    validate(merged, list);
    list[list.indexOf(old)] = merged;
    return merged;
  }

  function createRecord(zone: { id: string; name: string }, list: StoredCfRecord[], body: Record<string, unknown>): StoredCfRecord {
    const rec = makeRecord(zone, body);
    validate(rec, list);
    list.push(rec);
    return rec;
  }

  function paginate<T>(items: T[], url: URL) {
    const per = Math.min(Math.max(Number(url.searchParams.get('per_page') ?? 100) || 100, 5), pageSize);
    const page = Math.max(Number(url.searchParams.get('page') ?? 1) || 1, 1);
    const slice = items.slice((page - 1) * per, page * per);
    const totalPages = Math.max(1, Math.ceil(items.length / per));
    return { slice, info: { page, per_page: per, count: slice.length, total_count: items.length, total_pages: totalPages } };
  }

  function zoneObject(z: { id: string; name: string; nameServers: string[] }) {
    return {
      id: z.id,
      name: z.name,
      status: 'active',
      paused: false,
      type: 'full',
      name_servers: z.nameServers,
      original_name_servers: null,
      account: { id: 'fake-account', name: 'fake account' },
      plan: { id: 'free', name: 'Free Website', legacy_id: 'free' },
      created_on: '2026-01-01T00:00:00Z',
      modified_on: '2026-01-01T00:00:00Z',
    };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests++;
    const method = req.method ?? 'GET';
    const isWrite = method !== 'GET' && method !== 'HEAD';
    if (isWrite) writes++;
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/^\/client\/v4/, '').replace(/\/$/, '');

    const auth = req.headers.authorization;
    if (!auth || !/^Bearer \S+$/.test(auth)) {
      throw new CfHttpError(400, [{ code: 6003, message: 'Invalid request headers', error_chain: [{ code: 6111, message: 'Invalid format for Authorization header' }] }]);
    }
    if (auth.slice('Bearer '.length) !== opts.token) throw new CfHttpError(403, [{ code: 10000, message: 'Authentication error' }]);

    const now = Date.now();
    if (now >= windowStart + limit.windowMs) { windowStart = now; windowCount = 0; }
    if (now < lockedUntil) {
      throw Object.assign(new CfHttpError(429, [{ code: 971, message: 'Please wait and consider throttling your request speed' }]), { retryAfter: Math.ceil((lockedUntil - now) / 1000) });
    }
    windowCount++;
    if (windowCount > limit.requests) {
      lockedUntil = now + limit.windowMs; // a breach blocks every call for the next window
      throw Object.assign(new CfHttpError(429, [{ code: 971, message: 'Please wait and consider throttling your request speed' }]), { retryAfter: Math.ceil(limit.windowMs / 1000) });
    }
    if (isWrite && throttle > 0) {
      throttle--;
      throw Object.assign(new CfHttpError(429, [{ code: 971, message: 'Please wait and consider throttling your request speed' }]), { retryAfter });
    }

    const raw = isWrite ? await readBody(req) : '';
    let body: Record<string, unknown> = {};
    if (raw) {
      try { body = JSON.parse(raw) as Record<string, unknown>; }
      catch { throw new CfHttpError(400, [{ code: 9207, message: 'Request body is invalid.' }]); }
    }

    if (method === 'GET' && path === '/zones') {
      const name = url.searchParams.get('name');
      const list = [...zones.values()].filter((z) => !name || z.name === lower(name));
      const { slice, info } = paginate(list, url);
      return send(res, 200, envelope(slice.map(zoneObject), { result_info: info }), rateHeaders());
    }
    const m = /^\/zones\/([^/]+)(\/dns_records(?:\/([^/]+))?)?$/.exec(path);
    if (!m) throw new CfHttpError(404, [{ code: 7000, message: 'No route for that URI' }]);
    const zone = zones.get(m[1]);
    if (!zone) {
      throw new CfHttpError(400, [
        { code: 7003, message: `Could not route to ${url.pathname}, perhaps your object identifier is invalid?` },
        { code: 7000, message: 'No route for that URI' },
      ]);
    }
    if (!m[2]) {
      if (method === 'GET') return send(res, 200, envelope(zoneObject(zone)), rateHeaders());
      throw new CfHttpError(405, [{ code: 10405, message: 'Method not allowed' }]);
    }
    const sub = m[3];
    if (sub === undefined) {
      if (method === 'GET') {
        const name = url.searchParams.get('name');
        const type = url.searchParams.get('type');
        const list = zone.records.filter((r) => (!name || r.name === lower(name)) && (!type || r.type === type));
        const { slice, info } = paginate(list, url);
        return send(res, 200, envelope(slice, { result_info: info }), rateHeaders());
      }
      if (method === 'POST') return send(res, 200, envelope(createRecord(zone, zone.records, body)), rateHeaders());
      throw new CfHttpError(405, [{ code: 10405, message: 'Method not allowed' }]);
    }
    if (sub === 'batch' && method === 'POST') {
      const arr = (k: string) => (Array.isArray(body[k]) ? (body[k] as Record<string, unknown>[]) : []);
      const deletes = arr('deletes');
      const patches = arr('patches');
      const puts = arr('puts');
      const posts = arr('posts');
      const total = deletes.length + patches.length + puts.length + posts.length;
      if (total > batchLimit) {
        throw new CfHttpError(400, [{ code: 1004, message: `DNS Validation Error: a batch may operate on at most ${batchLimit} records on this plan (got ${total})` }]);
      }
      // One transaction: work on a copy, commit only when every operation succeeded.
      const work = zone.records.map((r) => ({ ...r }));
      const result = { deletes: [] as StoredCfRecord[], patches: [] as StoredCfRecord[], puts: [] as StoredCfRecord[], posts: [] as StoredCfRecord[] };
      for (const d of deletes) {
        const r = findRecord(work, String(d.id));
        work.splice(work.indexOf(r), 1);
        result.deletes.push(r);
      }
      for (const p of patches) result.patches.push(patchRecord(zone, work, String(p.id), p, false));
      for (const p of puts) result.puts.push(patchRecord(zone, work, String(p.id), p, true));
      for (const p of posts) result.posts.push(createRecord(zone, work, p));
      zone.records = work;
      batches.push(total);
      return send(res, 200, envelope(result), rateHeaders());
    }
    if (method === 'GET') return send(res, 200, envelope(findRecord(zone.records, sub)), rateHeaders());
    if (method === 'PATCH') return send(res, 200, envelope(patchRecord(zone, zone.records, sub, body, false)), rateHeaders());
    if (method === 'PUT') return send(res, 200, envelope(patchRecord(zone, zone.records, sub, body, true)), rateHeaders());
    if (method === 'DELETE') {
      const r = findRecord(zone.records, sub);
      zone.records.splice(zone.records.indexOf(r), 1);
      return send(res, 200, envelope({ id: r.id }), rateHeaders());
    }
    throw new CfHttpError(405, [{ code: 10405, message: 'Method not allowed' }]);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof CfHttpError) {
        const headers: Record<string, string> = rateHeaders();
        const ra = (err as CfHttpError & { retryAfter?: number }).retryAfter;
        if (err.status === 429) headers['retry-after'] = String(ra ?? retryAfter);
        send(res, err.status, { success: false, errors: err.errors, messages: [], result: null }, headers);
      } else {
        send(res, 500, { success: false, errors: [{ code: 10001, message: 'Internal error' }], messages: [], result: null });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/client/v4`,
    stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    seed(zoneName, record) {
      const zone = zoneByName(zoneName);
      if (!zone) throw new Error(`fake has no zone ${zoneName}`);
      for (const v of record.values) {
        const body: Record<string, unknown> = { name: record.name, type: record.type, ttl: record.ttl, content: v };
        if (record.type === 'MX' || record.type === 'SRV') {
          const [pref, ...rest] = v.split(/\s+/);
          body.priority = Number(pref);
          body.content = rest.join(' ');
        }
        zone.records.push(makeRecord(zone, body));
      }
    },
    injectThrottle(n) { throttle += n; },
    get requests() { return requests; },
    get writes() { return writes; },
    get batches() { return [...batches]; },
    records(zoneName) {
      return (zoneByName(zoneName)?.records ?? []).map((r) => ({ ...r }));
    },
  };
}
