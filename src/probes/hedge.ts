import { onAbort } from './abort-link.ts';

/**
 * One attempt of a probe:
 * - `answer`: the mirror spoke (any status, right or wrong bytes): final, whatever it said;
 * - `certain`: a failure no retry can change (refused, unreachable, TLS rejected): the mirror is not there as asked;
 * - `uncertain`: reset or no answer yet: one lost packet looks exactly like this, so another attempt may still answer.
 */
export type Attempt<T> = { kind: 'answer'; value: T } | { kind: 'certain'; reason: string } | { kind: 'uncertain'; reason: string };

export interface HedgeOptions<T> {
  /** Starts attempt `i` (0-based). Resolves for every outcome (never rejects) and ends soon after `signal` aborts. */
  attempt(i: number, signal: AbortSignal): Promise<Attempt<T>>;
  /** Most attempts in one probe (1 = no hedging). */
  maxAttempts: number;
  /** An attempt still silent after this long gets a companion on a fresh connection. */
  hedgeAfterMs: number;
  /** Deadline of the whole probe, all attempts together. */
  timeoutMs: number;
  /** The caller's signal: aborting it ends the probe at once. */
  signal: AbortSignal;
}

export type HedgeOutcome<T> =
  | { kind: 'answer'; value: T; attempts: number }
  | { kind: 'failed'; reason: string; certain: boolean; attempts: number }
  | { kind: 'timeout'; attempts: number }
  | { kind: 'aborted'; attempts: number };

/**
 * Runs attempts of one probe until one settles it. Attempt 0 starts at once; each further attempt starts when the
 * latest one has been silent for `hedgeAfterMs`, or at once when every running attempt failed uncertainly. The first
 * answer or certain failure wins and the others are aborted; the probe fails uncertainly only when every attempt did.
 * Why: over TCP a single lost packet costs a retransmission (≥ 200 ms, 1 s for a SYN), as long as a whole probe.
 */
export function hedged<T>(o: HedgeOptions<T>): Promise<HedgeOutcome<T>> {
  if (o.signal.aborted) return Promise.resolve({ kind: 'aborted', attempts: 0 });
  const max = Math.max(1, Math.floor(o.maxAttempts));
  return new Promise((resolve) => {
    const stop = new AbortController();
    let started = 0;
    let running = 0;
    let firstFailure: string | undefined;
    let done = false;
    let hedgeTimer: NodeJS.Timeout | undefined;
    let hedgeNow: NodeJS.Immediate | undefined;
    const cancelHedge = () => {
      clearTimeout(hedgeTimer);
      clearImmediate(hedgeNow);
      hedgeTimer = hedgeNow = undefined;
    };
    const finish = (out: HedgeOutcome<T>) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      cancelHedge();
      unlink();
      stop.abort();
      resolve(out);
    };
    const launch = () => {
      if (done || started >= max) return;
      const i = started++;
      running++;
      cancelHedge();
      // as for the deadline below: the attempt is silent only if its answer is not already waiting to be read. On a
      // busy loop (thousands of mirrors) a timer-first companion opened a fresh connection for nearly every probe
      if (started < max) hedgeTimer = setTimeout(() => { hedgeNow = setImmediate(launch); }, o.hedgeAfterMs);
      void o.attempt(i, stop.signal).then((a) => {
        running--;
        if (done) return;
        if (a.kind === 'answer') return finish({ kind: 'answer', value: a.value, attempts: started });
        if (a.kind === 'certain') return finish({ kind: 'failed', reason: a.reason, certain: true, attempts: started });
        firstFailure ??= a.reason;
        if (running > 0) return; // a companion is still on its way
        if (started < max) return launch();
        finish({ kind: 'failed', reason: firstFailure, certain: false, attempts: started });
      });
    };
    // Timers run before I/O in an event-loop turn: after a stall the deadline would fire ahead of an answer already
    // read by the kernel. setImmediate lets that turn's I/O in first, so the deadline judges what had arrived.
    const deadline = setTimeout(() => setImmediate(() => finish({ kind: 'timeout', attempts: started })), o.timeoutMs);
    const unlink = onAbort(o.signal, () => finish({ kind: 'aborted', attempts: started }));
    launch();
  });
}

/**
 * How long an attempt may stay silent before a companion starts: a few smoothed round trips of this mirror's
 * answers, kept between a tenth and a quarter of the timeout (a quarter when nothing is known yet), so a probe has
 * room for several attempts. Measured on loopback with 10% packet loss: answers come within ~50 ms or, after a
 * lost packet, not before ~190 ms.
 */
export function hedgeDelayMs(timeoutMs: number, smoothedLatencyMs?: number): number {
  const hi = timeoutMs / 4;
  if (smoothedLatencyMs === undefined || !Number.isFinite(smoothedLatencyMs)) return Math.round(hi);
  return Math.round(Math.min(hi, Math.max(timeoutMs / 10, 3 * smoothedLatencyMs + 10)));
}

/** Exponentially weighted moving average of latencies (weight 1/5 for the newest). */
export function smooth(prev: number | undefined, sample: number): number {
  return prev === undefined ? sample : prev + (sample - prev) / 5;
}
