/**
 * Per-stage timings of one transition of one mirror, from a flotilla node's trace (flotilla-node.ts): where the time
 * between a kill (or SIGCONT) and the answer goes. Pure. Every figure is ms after `t0` (Date.now() of the kill).
 */
import type { TraceEvent } from './flotilla-node.ts';

export interface Stages {
  /** The first probe that saw the new state (failed for 'down', passed for 'up'): when it started and ended. */
  firstStart?: number;
  firstEnd?: number;
  /** Probes of the mirror from that first one up to the flip, the flip's own included. */
  probes: number;
  /** Every probe of the mirror that ended between t0 and the flip: `start→end ok|reason` (ms after t0). */
  seen: string[];
  /** Gaps between the starts of those probes (the fast re-probes, or a regular slot). */
  gaps: number[];
  /** The verdict flipped (fall or rise reached). */
  flip?: number;
  /** The controller decided a new serving set. */
  decision?: number;
  /** Each provider's write finished. */
  written: Record<string, number>;
  /** Each provider's servers all answered the new set (the controller's own verification). */
  verified: Record<string, number>;
}

export function stagesOf(trace: readonly TraceEvent[], mirror: string, to: 'down' | 'up', t0: number): Stages {
  const rel = (t: number | undefined) => (t === undefined ? undefined : t - t0);
  const flip = trace.find((e): e is Extract<TraceEvent, { kind: 'flip' }> => e.kind === 'flip' && e.mirror === mirror && e.state === to && e.at >= t0);
  const wantOk = to === 'up';
  // probes that ENDED after t0 (a probe in flight at SIGCONT counts), up to the flip
  const probes = trace.filter((e): e is Extract<TraceEvent, { kind: 'probe' }> => e.kind === 'probe' && e.mirror === mirror && e.at >= t0 && (flip === undefined || e.at <= flip.at));
  const firstIdx = probes.findIndex((p) => p.ok === wantOk);
  const run = firstIdx < 0 ? [] : probes.slice(firstIdx);
  const first = run[0];
  const decision = flip && trace.find((e) => e.kind === 'decision' && e.at >= flip.at);
  const written: Record<string, number> = {};
  const verified: Record<string, number> = {};
  if (decision) {
    for (const e of trace) {
      if (e.kind === 'write' && e.start >= decision.at && written[e.provider] === undefined) written[e.provider] = e.at - t0;
      if (e.kind === 'verified' && e.at >= decision.at && verified[e.provider] === undefined && e.convergeMs !== undefined) verified[e.provider] = decision.at + e.convergeMs - t0;
    }
  }
  return {
    firstStart: rel(first?.start),
    firstEnd: rel(first?.at),
    probes: run.length,
    seen: probes.map((p) => `${p.start - t0}→${p.at - t0} ${p.ok ? 'ok' : p.reason}`),
    gaps: run.slice(1).map((p, i) => p.start - run[i].start),
    flip: rel(flip?.at),
    decision: rel(decision?.at),
    written,
    verified,
  };
}
