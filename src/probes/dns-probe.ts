import { queryDns } from '../dns/dns-client.ts';
import { formatEndpoint } from '../dns/endpoint.ts';
import { failure, roundLatency, type Probe, type ProbeResult } from './probe-result.ts';
import type { ProbeTarget } from './probe-target.ts';

/**
 * DNS probe: asks the mirror itself (a DNS service at address:port) for `host` A and is ok when it answers
 * NOERROR with at least one record, within timeoutMs and the latency budget. Failures are values.
 */
export class DnsProbe implements Probe {
  async run(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
    const at = Date.now();
    if (!target.address) return failure(target, 'no address known', at, 0);
    const server = formatEndpoint({ host: target.address, port: target.port });
    const r = await queryDns({ server, name: target.host, type: 'A', timeoutMs: target.timeoutMs, signal });
    if (!r.ok) return failure(target, r.error.replace(/^(udp|tcp) \S+: /, ''), at, r.latencyMs);
    if (r.rcode !== 'NOERROR') return failure(target, `rcode ${r.rcode} for ${target.host}`, at, r.latencyMs);
    if (r.answers.length === 0) return failure(target, `no answer for ${target.host}`, at, r.latencyMs);
    if (target.latencyBudgetMs !== undefined && r.latencyMs > target.latencyBudgetMs)
      return failure(target, `slow: ${Math.round(r.latencyMs)}ms > budget ${target.latencyBudgetMs}ms`, at, r.latencyMs);
    return { mirror: target.mirror, ok: true, reason: 'ok', latencyMs: roundLatency(r.latencyMs), at };
  }
}
