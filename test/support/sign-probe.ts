import type { Probe, ProbeResult } from '../../src/probes/probe-result.ts';
import type { ProbeTarget } from '../../src/probes/probe-target.ts';

/** Every mirror answers, but those in `signs` with a deplatforming sign (HTTP 451). */
export class SignProbe implements Probe {
  readonly signs = new Map<string, string>();
  async run(t: ProbeTarget): Promise<ProbeResult> {
    const s = this.signs.get(t.mirror);
    if (s) return { mirror: t.mirror, ok: false, reason: `deplatformed: ${s}`, deplatformed: s, status: 451, latencyMs: 1, at: Date.now() };
    return { mirror: t.mirror, ok: true, reason: 'ok', latencyMs: 1, at: Date.now() };
  }
}
