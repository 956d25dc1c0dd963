import { mirrorHealth, type FleetSpec } from '../domain/fleet-spec.ts';
import { DnsProbe } from '../probes/dns-probe.ts';
import { HttpProbe } from '../probes/http-probe.ts';
import type { Probe, ProbeResult } from '../probes/probe-result.ts';
import { probeTargetFor } from '../probes/probe-target.ts';
import { TcpProbe } from '../probes/tcp-probe.ts';

/**
 * One probe of every mirror, in parallel, with the probe kind each mirror's health settings name (what
 * `flotilla check` shows). Touches no state, health or driver: it only looks.
 */
export async function probeFleetOnce(spec: FleetSpec, signal: AbortSignal = new AbortController().signal): Promise<ProbeResult[]> {
  const probes: Record<'http' | 'tcp' | 'dns', Probe> = { http: new HttpProbe(), tcp: new TcpProbe(), dns: new DnsProbe() };
  try {
    return await Promise.all(spec.mirrors.map((m) => probes[mirrorHealth(spec, m).probe ?? 'http'].run(probeTargetFor(spec, m), signal)));
  } finally {
    await Promise.all(Object.values(probes).map((p) => p.close?.()));
  }
}
