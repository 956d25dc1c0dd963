import { redactText } from '../domain/redact-url.ts';
import type { ProbeTarget } from './probe-target.ts';

/**
 * The outcome of one probe. A failing mirror is a value (`ok: false` and a reason a person can read), never an
 * exception: refused, timed out, wrong bytes, expiring certificate and slow are all ordinary answers.
 * `reason` is `ok` when ok, else one short phrase, e.g. `refused`, `timeout after 200ms`, `status 503 (expected 200)`,
 * `content digest mismatch (got ab12cd34.., expected 99ef0011..)`, `body does not match "Welcome"`,
 * `TLS certificate expires in 3 days (minimum 7)`, `slow: 900ms > budget 800ms`, `reset`.
 */
export interface ProbeResult {
  mirror: string;
  ok: boolean;
  reason: string;
  /** Wall time of the whole probe (connect + TLS + headers + body), ms with 0.1 ms resolution. */
  latencyMs: number;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** sha256 (hex) of the body, when the whole body was read (not over the cap). */
  digest?: string;
  /** Whole days of certificate validity left, rounded down (negative once expired); https only. */
  tlsDaysLeft?: number;
  /** When the probe started, ms since epoch. */
  at: number;
  /** Connections tried when more than one: a silent or reset attempt gets a companion (see hedge.ts). */
  attempts?: number;
  /** The host took the site down on purpose (HTTP 451, a suspension page, another certificate issuer): which sign. */
  deplatformed?: string;
}

/**
 * A health probe. `run` resolves for every outcome of the target (it does not reject); aborting `signal`
 * ends the probe at once with reason `aborted`.
 */
export interface Probe {
  run(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult>;
  /** Release sockets and clients. Probes run after close() report `probe closed`. */
  close?(): Promise<void>;
}

/** Latency rounded to 0.1 ms. */
export function roundLatency(ms: number): number {
  return Math.round(ms * 10) / 10;
}

export function failure(target: Pick<ProbeTarget, 'mirror'>, reason: string, at: number, latencyMs: number, extra: Partial<ProbeResult> = {}): ProbeResult {
  return { mirror: target.mirror, ok: false, reason, latencyMs: roundLatency(latencyMs), at, ...extra };
}

const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_)/;

/** Error codes along an error's cause chain, outermost first. */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

/**
 * Whether a connection-level error settles the probe: refused, unreachable and a rejected TLS handshake say the
 * mirror is not there as asked, and a retry would say the same. A reset or a timeout may be one lost packet.
 */
export function isCertainError(err: unknown): boolean {
  return codesOf(err).some((c) => c === 'ECONNREFUSED' || UNREACHABLE.includes(c) || TLS_CODE.test(c));
}

const UNREACHABLE = ['EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENETDOWN', 'EHOSTDOWN'];

/** Words a connection-level error (net, tls or undici) as a probe reason. */
export function reasonForError(err: unknown, timeoutMs: number): string {
  const codes = codesOf(err);
  const has = (...c: string[]) => codes.some((x) => c.includes(x));
  if (has('ECONNREFUSED')) return 'refused';
  if (has('ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET')) return 'reset';
  if (has('ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT')) return `timeout after ${timeoutMs}ms`;
  const unreachable = codes.find((c) => UNREACHABLE.includes(c));
  if (unreachable) return `unreachable (${unreachable})`;
  const tls = codes.find((c) => TLS_CODE.test(c));
  if (tls) return `TLS handshake failed (${tls})`;
  if (has('UND_ERR_CLOSED', 'UND_ERR_DESTROYED')) return 'probe closed';
  const message = err instanceof Error ? err.message : String(err);
  return redactText(`error: ${codes[0] ? `${codes[0]} ` : ''}${message}`).slice(0, 200);
}
