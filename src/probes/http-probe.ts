import { createHash } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { buildConnector, Client } from './undici-client.ts';
import { ConnectionPool } from './connection-pool.ts';
import { hedged, hedgeDelayMs, smooth, type Attempt } from './hedge.ts';
import { evaluateResponse } from './probe-conditions.ts';
import { failure, isCertainError, reasonForError, roundLatency, type Probe, type ProbeResult } from './probe-result.ts';
import type { ProbeTarget } from './probe-target.ts';

export interface HttpProbeOptions {
  /** Most body bytes read per probe; a longer body is cut there (default 2 MiB). */
  maxBodyBytes?: number;
  /**
   * Most keep-alive connections held across all mirrors (one per origin's client); the least recently used is
   * closed beyond it (default 10,000). Beyond the bound every probe opens a fresh connection (LRU over a cyclic
   * schedule): measured at 1,000 mirrors it cost more memory (garbage) and CPU than keep-alive, and at 5,000 probes
   * every 2 s it ran out of local ports (TIME_WAIT), so the default stays above the fleets the bench runs.
   */
  maxConnections?: number;
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
  /**
   * Most connections one probe may try (default 4; 1 turns hedging off). An attempt silent for a few of this
   * mirror's round trips, or reset, gets a companion on a fresh connection; the probe fails only if all do, or at
   * once when one is refused. See hedge.ts.
   */
  maxAttempts?: number;
  /** Clock for `at` and certificate expiry (ms since epoch). */
  now?: () => number;
  /** Source address of every connection (a vantage's own address; default: the kernel's choice). */
  localAddress?: string;
}

interface OriginClient {
  client: Client;
  /** notAfter of the certificate on the current connection (a Client holds one connection at a time). */
  tlsValidTo?: number;
  /** Issuer of that certificate (`CN=…, O=…`). */
  tlsIssuer?: string;
  /** Smoothed latency of this origin's answers, ms (sets how long an attempt may stay silent). */
  smoothedMs?: number;
  /** The client's current connection. */
  socket?: Socket;
}

/** What one attempt brought back. */
interface Answer {
  status: number;
  body: { digest?: string; text?: string; truncated: boolean };
  tlsValidTo?: number;
  tlsIssuer?: string;
  /** Since the probe started (what the result reports). */
  latencyMs: number;
  /** Since this attempt started: the mirror's round trip, without the wait for earlier attempts. */
  ownMs: number;
}

const USER_AGENT = 'flotilla-probe/0.1';

/**
 * HTTP(S) probe on undici. It connects to the target's IP address and sends the site's Host header and TLS SNI,
 * never resolving a name. One undici Client per origin (address, port, scheme, host) keeps a keep-alive
 * connection, in a pool shared by all mirrors and bounded overall (connection-pool.ts); close() releases them all.
 */
export class HttpProbe implements Probe {
  private readonly clients: ConnectionPool<OriginClient>;
  private readonly maxBody: number;
  private readonly keepAliveMs: number;
  private readonly maxRequests: number;
  private readonly verifyChain: boolean;
  private readonly ca: string | string[] | undefined;
  private readonly maxAttempts: number;
  private readonly now: () => number;
  /** Clients of companion attempts in flight (closed by close() too). */
  private readonly oneShots = new Set<Client>();
  private closed = false;
  private readonly localAddress: string | undefined;

  constructor(opts: HttpProbeOptions = {}) {
    this.maxBody = opts.maxBodyBytes ?? 2 * 1024 * 1024;
    this.clients = new ConnectionPool<OriginClient>(
      Math.max(1, opts.maxConnections ?? 10_000),
      (c) => !c.client.closed && !c.client.destroyed,
      (c) => void c.client.close().catch(() => undefined), // graceful: lets its in-flight probe finish
    );
    this.keepAliveMs = opts.keepAliveMs ?? 4_000;
    this.maxRequests = Math.max(1, opts.maxRequestsPerConnection ?? 10);
    this.verifyChain = opts.verifyChain ?? false;
    this.ca = opts.ca;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 4);
    this.now = opts.now ?? Date.now;
    this.localAddress = opts.localAddress;
  }

  /** Number of origins holding a client, each with at most one connection (for memory reporting). */
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

    const origin = this.clientFor(target);
    const out = await hedged<Answer>({
      maxAttempts: this.maxAttempts,
      hedgeAfterMs: hedgeDelayMs(target.timeoutMs, origin.smoothedMs),
      timeoutMs: target.timeoutMs,
      signal,
      // the first attempt rides the keep-alive connection; companions each open a fresh one
      attempt: (i, sig) => (i === 0 ? this.attempt(origin, target, sig, elapsed) : this.freshAttempt(target, sig, elapsed)),
    });
    const extra: Partial<ProbeResult> = out.attempts > 1 ? { attempts: out.attempts } : {};
    if (out.kind === 'timeout') return failure(target, `timeout after ${target.timeoutMs}ms`, at, elapsed(), extra);
    if (out.kind === 'aborted') return failure(target, 'aborted', at, elapsed(), extra);
    if (out.kind === 'failed') return failure(target, out.reason, at, elapsed(), extra);
    const a = out.value;
    origin.smoothedMs = smooth(origin.smoothedMs, a.ownMs);
    const verdict = evaluateResponse(target, {
      status: a.status,
      digest: a.body.digest,
      text: a.body.text,
      truncated: a.body.truncated,
      capBytes: this.maxBody,
      latencyMs: a.latencyMs,
      tlsValidTo: a.tlsValidTo,
      tlsIssuer: a.tlsIssuer,
      now: this.now(),
    });
    const result: ProbeResult = { mirror: target.mirror, ok: verdict.ok, reason: verdict.reason, latencyMs: roundLatency(a.latencyMs), status: a.status, at, ...extra };
    if (a.body.digest !== undefined) result.digest = a.body.digest;
    if (verdict.tlsDaysLeft !== undefined) result.tlsDaysLeft = verdict.tlsDaysLeft;
    if (verdict.deplatformed !== undefined) result.deplatformed = verdict.deplatformed;
    return result;
  }

  /** One request on `origin`'s client; an answer of any status is final, a connection error certain or not. */
  private async attempt(origin: OriginClient, target: ProbeTarget, signal: AbortSignal, elapsed: () => number, oneShot = false): Promise<Attempt<Answer>> {
    const t0 = performance.now();
    // An abandoned attempt's connection is reset, not closed: a closed socket would keep retransmitting its
    // unacknowledged request for seconds. Registered before undici's own listener, so the socket is still open.
    const onAbandon = () => resetSocket(origin.socket);
    signal.addEventListener('abort', onAbandon, { once: true });
    try {
      const res = await origin.client.request({
        method: 'GET',
        path: target.path,
        headers: { host: target.host, 'user-agent': USER_AGENT, accept: '*/*' },
        signal,
        // One request per connection when asked: `connection: close`.
        reset: oneShot || this.maxRequests <= 1,
      });
      const body = await readCapped(res.body, this.maxBody, target.bodyMatch !== undefined || (target.suspensionPatterns?.length ?? 0) > 0);
      return { kind: 'answer', value: { status: res.statusCode, body, tlsValidTo: origin.tlsValidTo, tlsIssuer: origin.tlsIssuer, latencyMs: elapsed(), ownMs: performance.now() - t0 } };
    } catch (err) {
      const reason = reasonForError(err, target.timeoutMs);
      return { kind: isCertainError(err) || reason === 'probe closed' ? 'certain' : 'uncertain', reason };
    } finally {
      signal.removeEventListener('abort', onAbandon);
    }
  }

  /** One request on a connection of its own, closed afterwards (a companion of a silent attempt). */
  private async freshAttempt(target: ProbeTarget, signal: AbortSignal, elapsed: () => number): Promise<Attempt<Answer>> {
    if (this.closed) return { kind: 'certain', reason: 'probe closed' };
    const own: OriginClient = { client: undefined as unknown as Client };
    own.client = this.newClient(target, own, 1);
    this.oneShots.add(own.client);
    try {
      return await this.attempt(own, target, signal, elapsed, true);
    } finally {
      this.oneShots.delete(own.client);
      own.client.destroy().catch(() => undefined);
    }
  }

  /** Closes every client and its connections; in-flight probes end with a failure value. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.clients.drain().map((c) => c.client), ...this.oneShots];
    this.oneShots.clear();
    await Promise.all(all.map((c) => c.destroy().catch(() => undefined)));
  }

  private clientFor(t: ProbeTarget): OriginClient {
    const hostPart = t.address.includes(':') ? `[${t.address}]` : t.address;
    const origin = `${t.scheme}://${hostPart}:${t.port}`;
    // a different trust setting is a different client: its connections verify differently
    const key = `${origin} ${t.host} ${t.tlsVerify ? `verify ${t.tlsCa ? createHash('sha256').update(t.tlsCa).digest('hex').slice(0, 16) : 'system'}` : ''}`;
    return this.clients.take(key, () => {
      const entry: OriginClient = { client: undefined as unknown as Client };
      entry.client = this.newClient(t, entry, this.maxRequests);
      return entry;
    });
  }

  /** A client for `t`'s origin that records the certificate of each new connection on `entry`. */
  private newClient(t: ProbeTarget, entry: OriginClient, maxRequests: number): Client {
    const hostPart = t.address.includes(':') ? `[${t.address}]` : t.address;
    const origin = `${t.scheme}://${hostPart}:${t.port}`;
    // Connect to the IP (the origin) but present the site's name for SNI (an IP literal is never sent as SNI).
    const sni = t.scheme === 'https' && isIP(t.host) === 0 ? t.host : undefined;
    const base = buildConnector({
      servername: sni,
      // the target's own setting (from the stack file) wins over the probe's default; a verified chain also checks the name
      rejectUnauthorized: t.tlsVerify ?? this.verifyChain,
      ca: t.tlsCa ?? this.ca,
      // No TLS session resumption: every new connection reads the certificate afresh from a full handshake.
      maxCachedSessions: 0,
      timeout: t.timeoutMs,
    });
    const connect: buildConnector.connector = (opts, callback) => {
      base({ ...opts, servername: sni }, (err, socket) => {
        if (!err && socket) entry.socket = socket as Socket;
        if (!err && socket && t.scheme === 'https') {
          const cert = (socket as TLSSocket).getPeerCertificate?.();
          const validTo = cert && cert.valid_to ? Date.parse(cert.valid_to) : NaN;
          entry.tlsValidTo = Number.isFinite(validTo) ? validTo : undefined;
          entry.tlsIssuer = cert && cert.issuer ? issuerText(cert.issuer) : undefined;
        }
        (callback as (e: Error | null, s: unknown) => void)(err, socket);
      });
    };
    return new Client(origin, {
      connect,
      ...(this.localAddress ? { localAddress: this.localAddress } : {}),
      pipelining: 1,
      keepAliveTimeout: this.keepAliveMs,
      keepAliveMaxTimeout: Math.max(this.keepAliveMs, 60_000),
      // undici closes a connection after it carried maxRequestsPerClient + 1 requests; 0 would mean unlimited.
      maxRequestsPerClient: maxRequests > 1 ? maxRequests - 1 : 0,
      // Our own deadline covers the whole probe; these only bound a request nobody waits for any more.
      headersTimeout: Math.max(t.timeoutMs * 2, 1_000),
      bodyTimeout: Math.max(t.timeoutMs * 2, 1_000),
    });
  }
}

/** `CN=…, O=…` of a certificate's issuer (the fields that name a CA). */
function issuerText(issuer: Record<string, string | string[] | undefined>): string {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join('+') : v);
  return ['CN', 'O'].filter((k) => issuer[k] !== undefined).map((k) => `${k}=${one(issuer[k])}`).join(', ');
}

/** Sends RST and drops the connection (falls back to a plain destroy where a reset is not possible). */
function resetSocket(socket: Socket | undefined): void {
  if (!socket || socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
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
