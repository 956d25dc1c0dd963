import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { buildConnector, Client } from 'undici';
import { onAbort } from './abort-link.ts';
import { evaluateResponse } from './probe-conditions.ts';
import { failure, reasonForError, roundLatency, type Probe, type ProbeResult } from './probe-result.ts';
import type { ProbeTarget } from './probe-target.ts';

export interface HttpProbeOptions {
  /** Most body bytes read per probe; a longer body is cut there (default 2 MiB). */
  maxBodyBytes?: number;
  /** Most origins with a live client; the least recently used is closed beyond it (default 10,000). */
  maxClients?: number;
  /** Idle keep-alive per connection unless the server asks for less (default 4 s). */
  keepAliveMs?: number;
  /**
   * Requests per connection before a fresh one is opened (default 10), so a mirror that stops accepting new
   * connections, or changes its certificate, is noticed even while an old keep-alive connection still works.
   */
  maxRequestsPerConnection?: number;
  /**
   * Verify the certificate chain and name (default false). By default the probe checks what it is asked to check —
   * status, bytes, certificate EXPIRY — and not the chain: mirrors are reached by IP, often before they are in DNS,
   * where a self-signed or staging certificate is normal. Turn this on to fail mirrors with an untrusted chain.
   */
  verifyChain?: boolean;
  /** Extra trusted CA certificates (PEM) when verifyChain is on. */
  ca?: string | string[];
  /** Clock for `at` and certificate expiry (ms since epoch). */
  now?: () => number;
}

interface OriginClient {
  client: Client;
  /** notAfter of the certificate on the current connection (a Client holds one connection at a time). */
  tlsValidTo?: number;
}

const USER_AGENT = 'flotilla-probe/0.1';
/** Sentinel abort reason, to tell our own deadline from the caller's abort. */
const DEADLINE = Symbol('probe deadline');

/**
 * HTTP(S) probe on undici. It connects to the target's IP address and sends the site's Host header and TLS SNI,
 * never resolving a name. One undici Client per origin (address, port, scheme, host) keeps a keep-alive
 * connection per mirror; clients are bounded (LRU) and released by close().
 */
export class HttpProbe implements Probe {
  private readonly clients = new Map<string, OriginClient>();
  private readonly maxBody: number;
  private readonly maxClients: number;
  private readonly keepAliveMs: number;
  private readonly maxRequests: number;
  private readonly verifyChain: boolean;
  private readonly ca: string | string[] | undefined;
  private readonly now: () => number;
  private closed = false;

  constructor(opts: HttpProbeOptions = {}) {
    this.maxBody = opts.maxBodyBytes ?? 2 * 1024 * 1024;
    this.maxClients = Math.max(1, opts.maxClients ?? 10_000);
    this.keepAliveMs = opts.keepAliveMs ?? 4_000;
    this.maxRequests = Math.max(1, opts.maxRequestsPerConnection ?? 10);
    this.verifyChain = opts.verifyChain ?? false;
    this.ca = opts.ca;
    this.now = opts.now ?? Date.now;
  }

  /** Number of origins holding a client (for memory reporting). */
  get openClients(): number {
    return this.clients.size;
  }

  async run(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
    const at = this.now();
    const t0 = performance.now();
    const elapsed = () => performance.now() - t0;
    if (this.closed) return failure(target, 'probe closed', at, 0);
    if (isIP(target.address) === 0)
      return failure(target, target.address ? `address ${JSON.stringify(target.address)} is not an IP (probes never resolve names)` : 'no address known', at, 0);
    if (signal.aborted) return failure(target, 'aborted', at, 0);

    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(DEADLINE), target.timeoutMs);
    const unlink = onAbort(signal, () => ac.abort(signal.reason));
    try {
      const origin = this.clientFor(target);
      const res = await origin.client.request({
        method: 'GET',
        path: target.path,
        headers: { host: target.host, 'user-agent': USER_AGENT, accept: '*/*' },
        signal: ac.signal,
        // One request per connection when asked: `connection: close`.
        reset: this.maxRequests <= 1,
      });
      const body = await readCapped(res.body, this.maxBody, target.bodyMatch !== undefined);
      const latencyMs = elapsed();
      const verdict = evaluateResponse(target, {
        status: res.statusCode,
        digest: body.digest,
        text: body.text,
        truncated: body.truncated,
        capBytes: this.maxBody,
        latencyMs,
        tlsValidTo: origin.tlsValidTo,
        now: this.now(),
      });
      const result: ProbeResult = { mirror: target.mirror, ok: verdict.ok, reason: verdict.reason, latencyMs: roundLatency(latencyMs), status: res.statusCode, at };
      if (body.digest !== undefined) result.digest = body.digest;
      if (verdict.tlsDaysLeft !== undefined) result.tlsDaysLeft = verdict.tlsDaysLeft;
      return result;
    } catch (err) {
      const reason = ac.signal.reason === DEADLINE ? `timeout after ${target.timeoutMs}ms` : signal.aborted ? 'aborted' : reasonForError(err, target.timeoutMs);
      return failure(target, reason, at, elapsed());
    } finally {
      clearTimeout(timer);
      unlink();
    }
  }

  /** Closes every client and its connections; in-flight probes end with a failure value. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.client.destroy().catch(() => undefined)));
  }

  private clientFor(t: ProbeTarget): OriginClient {
    const hostPart = t.address.includes(':') ? `[${t.address}]` : t.address;
    const origin = `${t.scheme}://${hostPart}:${t.port}`;
    const key = `${origin} ${t.host}`;
    const existing = this.clients.get(key);
    if (existing && !existing.client.closed && !existing.client.destroyed) {
      // Re-insert: Map order is the LRU order.
      this.clients.delete(key);
      this.clients.set(key, existing);
      return existing;
    }
    if (existing) this.clients.delete(key);
    while (this.clients.size >= this.maxClients) {
      const [oldKey, old] = this.clients.entries().next().value as [string, OriginClient];
      this.clients.delete(oldKey);
      old.client.close().catch(() => undefined); // graceful: lets its in-flight probe finish
    }

    const entry: OriginClient = { client: undefined as unknown as Client };
    // Connect to the IP (the origin) but present the site's name for SNI (an IP literal is never sent as SNI).
    const sni = t.scheme === 'https' && isIP(t.host) === 0 ? t.host : undefined;
    const base = buildConnector({
      servername: sni,
      rejectUnauthorized: this.verifyChain,
      ca: this.ca,
      // No TLS session resumption: every new connection reads the certificate afresh from a full handshake.
      maxCachedSessions: 0,
      timeout: t.timeoutMs,
    });
    const connect: buildConnector.connector = (opts, callback) => {
      base({ ...opts, servername: sni }, (err, socket) => {
        if (!err && socket && t.scheme === 'https') {
          const cert = (socket as TLSSocket).getPeerCertificate?.();
          const validTo = cert && cert.valid_to ? Date.parse(cert.valid_to) : NaN;
          entry.tlsValidTo = Number.isFinite(validTo) ? validTo : undefined;
        }
        (callback as (e: Error | null, s: unknown) => void)(err, socket);
      });
    };
    entry.client = new Client(origin, {
      connect,
      pipelining: 1,
      keepAliveTimeout: this.keepAliveMs,
      keepAliveMaxTimeout: Math.max(this.keepAliveMs, 60_000),
      // undici closes a connection after it carried maxRequestsPerClient + 1 requests; 0 would mean unlimited.
      maxRequestsPerClient: this.maxRequests > 1 ? this.maxRequests - 1 : 0,
      // Our own deadline covers the whole probe; these only bound a request nobody waits for any more.
      headersTimeout: Math.max(t.timeoutMs * 2, 1_000),
      bodyTimeout: Math.max(t.timeoutMs * 2, 1_000),
    });
    this.clients.set(key, entry);
    return entry;
  }
}

/** Reads at most `cap` bytes, hashing as it goes; keeps the text only when asked (memory stays bounded). */
async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown },
  cap: number,
  keepText: boolean,
): Promise<{ digest?: string; text?: string; truncated: boolean }> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let total = 0;
  let truncated = false;
  for await (const chunk of body) {
    const room = cap - total;
    if (chunk.length > room) {
      if (keepText && room > 0) chunks.push(chunk.subarray(0, room));
      truncated = true;
      body.destroy(); // stop reading: the connection is dropped rather than drained
      break;
    }
    hash.update(chunk);
    if (keepText) chunks.push(chunk);
    total += chunk.length;
  }
  const out: { digest?: string; text?: string; truncated: boolean } = { truncated };
  if (!truncated) out.digest = hash.digest('hex');
  if (keepText) out.text = Buffer.concat(chunks).toString('utf8');
  return out;
}
