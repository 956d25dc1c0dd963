import { FlotillaError, StateError } from '../domain/errors.ts';
import { StateUnavailableError } from './state-unavailable-error.ts';

/**
 * A minimal client for etcd's v3 JSON gateway (POST <endpoint>/v3/kv/...), over fetch.
 * - Keys and values are strings (UTF-8) or Buffers here; the gateway wants them base64, and int64s come back as strings.
 * - Each request goes to the endpoint that last answered, then to the others in the order given, moving on when one
 *   cannot be reached, times out, or answers "unavailable" (HTTP 503/504, gRPC UNAVAILABLE/DEADLINE_EXCEEDED).
 *   When none answers it throws StateUnavailableError naming every endpoint and why it failed.
 * - Any other error etcd reports (request too large, compacted revision, ...) is a StateError naming the endpoint.
 * - A request that timed out may still have been applied: callers make their writes safe to repeat.
 * - etcd 3.4 serves /v3/ and /v3beta/, 3.5+ only /v3/, 3.3 only /v3beta/: on a 404 the client tries the other one.
 */
export interface EtcdClientOptions {
  /** e.g. `http://127.0.0.1:2379`; a bare `host:port` means http. */
  endpoints: string[];
  /** Per request, body included. Default 5000. */
  timeoutMs?: number;
  /** Replaces the global fetch (tests, custom agents). */
  fetch?: typeof fetch;
  /** Names the store in error messages, e.g. `etcd state store (prefix /flotilla/prod/)`. */
  label?: string;
}

export type EtcdKey = string | Buffer;

export interface EtcdKeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  /** Number of writes since the key was created (1 after the first put). */
  version: number;
}

export interface RangeResult {
  kvs: EtcdKeyValue[];
  /** More keys in the range than `limit` returned. */
  more: boolean;
  /** The store revision the read saw (pin later pages to it for one consistent snapshot). */
  revision: number;
}

export interface TxnCompare {
  key: EtcdKey;
  /** VERSION: writes since creation; CREATE: create_revision; MOD: mod_revision. All three are 0 for a missing key. */
  target: 'VERSION' | 'CREATE' | 'MOD';
  equals: number;
}

export type TxnOp = { put: { key: EtcdKey; value: string } } | { range: { key: EtcdKey } };

export interface TxnResult {
  succeeded: boolean;
  /** Store revision after the transaction (the new mod_revision of anything it put). */
  revision: number;
  /** Results of the `range` ops of the branch that ran, in order. */
  ranges: RangeResult[];
}

const FIELD: Record<TxnCompare['target'], string> = { VERSION: 'version', CREATE: 'create_revision', MOD: 'mod_revision' };

export class EtcdClient {
  readonly endpoints: string[];
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly label: string;
  private apiPrefix = '/v3';
  private preferred = 0;

  constructor(opts: EtcdClientOptions) {
    if (opts.endpoints.length === 0) throw new FlotillaError('CONFIG_INVALID', 'etcd: state.endpoints is empty; name at least one etcd client URL', { exitCode: 2 });
    this.endpoints = opts.endpoints.map(normalizeEndpoint);
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.fetchFn = opts.fetch ?? fetch;
    this.label = opts.label ?? 'etcd';
  }

  /** Keys in [key, rangeEnd), in key order (`descend`: last key first), at most `limit`, as of `revision`. */
  async range(key: EtcdKey, opts: { rangeEnd?: EtcdKey; limit?: number; revision?: number; descend?: boolean } = {}): Promise<RangeResult> {
    const body: Record<string, unknown> = { key: b64(key) };
    if (opts.descend) Object.assign(body, { sort_order: 'DESCEND', sort_target: 'KEY' });
    if (opts.rangeEnd !== undefined) body.range_end = b64(opts.rangeEnd);
    if (opts.limit !== undefined) body.limit = String(opts.limit);
    if (opts.revision !== undefined) body.revision = String(opts.revision);
    return decodeRange(await this.call('/kv/range', body));
  }

  /** Unconditional put; returns the new revision. */
  async put(key: EtcdKey, value: string): Promise<number> {
    const r = (await this.call('/kv/put', { key: b64(key), value: b64(value) })) as { header?: { revision?: string } };
    return Number(r.header?.revision ?? 0);
  }

  async txn(compare: TxnCompare[], success: TxnOp[], failure: TxnOp[] = []): Promise<TxnResult> {
    const body = {
      compare: compare.map((c) => ({ key: b64(c.key), target: c.target, result: 'EQUAL', [FIELD[c.target]]: String(c.equals) })),
      success: success.map(encodeOp),
      failure: failure.map(encodeOp),
    };
    const r = (await this.call('/kv/txn', body)) as { header?: { revision?: string }; succeeded?: boolean; responses?: { response_range?: unknown }[] };
    return {
      // the gateway omits false booleans
      succeeded: r.succeeded === true,
      revision: Number(r.header?.revision ?? 0),
      ranges: (r.responses ?? []).filter((x) => x.response_range !== undefined).map((x) => decodeRange(x.response_range)),
    };
  }

  /** Deletes `key`, or every key in [key, rangeEnd); returns how many were deleted. */
  async deleteRange(key: EtcdKey, rangeEnd?: EtcdKey): Promise<number> {
    const body: Record<string, unknown> = { key: b64(key) };
    if (rangeEnd !== undefined) body.range_end = b64(rangeEnd);
    const r = (await this.call('/kv/deleterange', body)) as { deleted?: string };
    return Number(r.deleted ?? 0);
  }

  /** POSTs to every endpoint in turn until one answers; see the class comment for what counts as "not answering". */
  private async call(path: string, body: unknown): Promise<unknown> {
    const failed: { endpoint: string; reason: string }[] = [];
    const n = this.endpoints.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.preferred + i) % n;
      const endpoint = this.endpoints[idx];
      const r = await this.post(endpoint, path, body);
      if (r.kind === 'unreachable') {
        failed.push({ endpoint, reason: r.reason });
        continue;
      }
      this.preferred = idx;
      return r.json;
    }
    throw new StateUnavailableError(this.label, failed);
  }

  private async post(endpoint: string, path: string, body: unknown): Promise<{ kind: 'ok'; json: unknown } | { kind: 'unreachable'; reason: string }> {
    for (let alt = false; ; alt = true) {
      const prefix = alt ? otherPrefix(this.apiPrefix) : this.apiPrefix;
      let status: number;
      let text: string;
      try {
        const res = await this.fetchFn(`${endpoint}${prefix}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        status = res.status;
        text = await res.text();
      } catch (e) {
        return { kind: 'unreachable', reason: describeFetchError(e, this.timeoutMs) };
      }
      // etcd 3.3 serves the gateway only under /v3beta, 3.5+ only under /v3: try the other one once
      if (status === 404 && !alt) continue;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        if (status >= 500) return { kind: 'unreachable', reason: `HTTP ${status}` };
        throw new StateError('STATE_CORRUPT', `${this.label}: ${endpoint}${prefix}${path} answered HTTP ${status} with a non-JSON body; is this an etcd client URL?`);
      }
      if (status >= 200 && status < 300) {
        this.apiPrefix = prefix;
        return { kind: 'ok', json };
      }
      const err = json as { message?: string; error?: string; code?: number };
      const message = err.message ?? err.error ?? `HTTP ${status}`;
      // 14 UNAVAILABLE (no leader, stopping), 4 DEADLINE_EXCEEDED (request timed out inside etcd): another member may do
      if (status === 503 || status === 504 || err.code === 14 || err.code === 4) return { kind: 'unreachable', reason: message };
      throw new StateError('STATE_CORRUPT', `${this.label}: etcd at ${endpoint} refused ${path.slice(1)}: ${message}`);
    }
  }
}

/** The first key after every key that starts with `prefix` (etcd's range_end for a prefix scan). */
export function prefixEnd(prefix: EtcdKey): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] < 0xff) {
      const end = b.subarray(0, i + 1);
      end[i]++;
      return end;
    }
  }
  return Buffer.from([0]); // all 0xff: "to the end of the keyspace"
}

function normalizeEndpoint(e: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(e) ? e : `http://${e}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new FlotillaError('CONFIG_INVALID', `etcd: endpoint "${e}" is not a URL (expected e.g. http://127.0.0.1:2379)`, { exitCode: 2 });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new FlotillaError('CONFIG_INVALID', `etcd: endpoint "${u.origin}" must be http:// or https://`, { exitCode: 2 });
  }
  // origin only: a path would break the gateway URLs, and user:password must never reach a message
  return u.origin;
}

function otherPrefix(p: string): string {
  return p === '/v3' ? '/v3beta' : '/v3';
}

function b64(k: EtcdKey): string {
  return Buffer.from(k).toString('base64');
}

function encodeOp(op: TxnOp): unknown {
  if ('put' in op) return { request_put: { key: b64(op.put.key), value: b64(op.put.value) } };
  return { request_range: { key: b64(op.range.key) } };
}

interface RawKv { key?: string; value?: string; create_revision?: string; mod_revision?: string; version?: string }

function decodeRange(raw: unknown): RangeResult {
  const r = raw as { header?: { revision?: string }; kvs?: RawKv[]; more?: boolean };
  return {
    kvs: (r.kvs ?? []).map((kv) => ({
      key: Buffer.from(kv.key ?? '', 'base64').toString('utf8'),
      value: Buffer.from(kv.value ?? '', 'base64').toString('utf8'),
      createRevision: Number(kv.create_revision ?? 0),
      modRevision: Number(kv.mod_revision ?? 0),
      version: Number(kv.version ?? 0),
    })),
    more: r.more === true,
    revision: Number(r.header?.revision ?? 0),
  };
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  return code ?? err.cause?.message ?? err.message ?? String(e);
}
