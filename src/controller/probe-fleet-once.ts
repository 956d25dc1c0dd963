import { mirrorHealth, type FleetSpec } from '../domain/fleet-spec.ts';
import { isProvisioned, notProvisionedReason, withInventory, type Inventory } from '../domain/inventory.ts';
import { DnsProbe } from '../probes/dns-probe.ts';
import { HttpProbe } from '../probes/http-probe.ts';
import type { Probe, ProbeResult } from '../probes/probe-result.ts';
import { probeTargetFor } from '../probes/probe-target.ts';
import { TcpProbe } from '../probes/tcp-probe.ts';

/** One mirror's probe result, with the address probed ('not provisioned' when none is known: then nothing was probed). */
export type FleetProbeResult = ProbeResult & { address: string; provisioned: boolean };

/**
 * One probe of every mirror, in parallel, with the probe kind each mirror's health settings name (what
 * `flotilla check` shows). Touches no state, health or driver: it only looks.
 */
export async function probeFleetOnce(spec0: FleetSpec, signal: AbortSignal = new AbortController().signal, inventory?: Inventory): Promise<FleetProbeResult[]> {
  const probes: Record<'http' | 'tcp' | 'dns', Probe> = { http: new HttpProbe(), tcp: new TcpProbe(), dns: new DnsProbe() };
  const spec = withInventory(spec0, inventory);
  try {
    return await Promise.all(spec.mirrors.map(async (m): Promise<FleetProbeResult> => {
      // never probed at a guessed address
      if (!isProvisioned(m)) return { mirror: m.name, ok: false, reason: notProvisionedReason(m.name), latencyMs: 0, at: Date.now(), address: 'not provisioned', provisioned: false };
      const target = probeTargetFor(spec, m);
      return { ...(await probes[mirrorHealth(spec, m).probe ?? 'http'].run(target, signal)), address: target.address, provisioned: true };
    }));
  } finally {
    await Promise.all(Object.values(probes).map((p) => p.close?.()));
  }
}
