import { connect, isIP } from 'node:net';
import { hedged, hedgeDelayMs, smooth, type Attempt } from './hedge.ts';
import { latencyReason } from './probe-conditions.ts';
import { failure, isCertainError, reasonForError, roundLatency, type Probe, type ProbeResult } from './probe-result.ts';
import type { ProbeTarget } from './probe-target.ts';

export interface TcpProbeOptions {
  /** Most connects one probe may try (default 4; 1 turns hedging off): a lost SYN costs 1 s, see hedge.ts. */
  maxAttempts?: number;
  now?: () => number;
  /** Source address of every connect (a vantage's own address; default: the kernel's choice). */
  localAddress?: string;
}

/**
 * TCP connect probe: ok when the mirror's port accepts a connection within timeoutMs (and within the latency
 * budget, when there is one). HTTP fields of the target (path, status, body, TLS) are ignored.
 * Each attempt opens and closes its own socket; nothing stays open between probes. A connect still silent after a
 * few round trips gets a companion; refused ends the probe at once.
 */
export class TcpProbe implements Probe {
  private readonly now: () => number;
  private readonly maxAttempts: number;
  private readonly localAddress: string | undefined;
  /** Smoothed connect time per address:port, ms. */
  private readonly smoothed = new Map<string, number>();

  constructor(opts: TcpProbeOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 4);
    this.localAddress = opts.localAddress;
  }

  async run(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
    const at = this.now();
    const t0 = performance.now();
    const elapsed = () => performance.now() - t0;
    if (isIP(target.address) === 0)
      return failure(target, target.address ? `address ${JSON.stringify(target.address)} is not an IP (probes never resolve names)` : 'no address known', at, 0);
    if (signal.aborted) return failure(target, 'aborted', at, 0);
    const key = `${target.address} ${target.port}`;
    const out = await hedged<{ latencyMs: number; ownMs: number }>({
      maxAttempts: this.maxAttempts,
      hedgeAfterMs: hedgeDelayMs(target.timeoutMs, this.smoothed.get(key)),
      timeoutMs: target.timeoutMs,
      signal,
      attempt: (_i, sig) => connectOnce(target, sig, elapsed, this.localAddress),
    });
    const extra: Partial<ProbeResult> = out.attempts > 1 ? { attempts: out.attempts } : {};
    if (out.kind === 'timeout') return failure(target, `timeout after ${target.timeoutMs}ms`, at, elapsed(), extra);
    if (out.kind === 'aborted') return failure(target, 'aborted', at, elapsed(), extra);
    if (out.kind === 'failed') return failure(target, out.reason, at, elapsed(), extra);
    const { latencyMs, ownMs } = out.value;
    this.smoothed.set(key, smooth(this.smoothed.get(key), ownMs));
    const slow = latencyReason(target, latencyMs);
    return { mirror: target.mirror, ok: slow === undefined, reason: slow ?? 'ok', latencyMs: roundLatency(latencyMs), at, ...extra };
  }

  async close(): Promise<void> {}
}

/** One connect; resolves with the probe's elapsed time and this connect's own time when it connects. */
function connectOnce(target: ProbeTarget, signal: AbortSignal, elapsed: () => number, localAddress?: string): Promise<Attempt<{ latencyMs: number; ownMs: number }>> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let socket: ReturnType<typeof connect>;
    try {
      socket = connect({ host: target.address, port: target.port, ...(localAddress ? { localAddress } : {}) });
    } catch (err) {
      return resolve({ kind: 'certain', reason: reasonForError(err, target.timeoutMs) }); // e.g. port out of range
    }
    const end = (a: Attempt<{ latencyMs: number; ownMs: number }>) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(a);
    };
    const onAbort = () => end({ kind: 'uncertain', reason: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => end({ kind: 'answer', value: { latencyMs: elapsed(), ownMs: performance.now() - t0 } }));
    socket.on('error', (err) => end({ kind: isCertainError(err) ? 'certain' : 'uncertain', reason: reasonForError(err, target.timeoutMs) }));
  });
}
