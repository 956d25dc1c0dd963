/**
 * The nameservers a delegation lists when a registrar takes fewer than every provider's set (Route 53 Domains: 6).
 * Pure and deterministic (the same input always gives the same set, so the guard and `pulumi up` agree and nothing
 * flaps): providers in name order, each one's names sorted, taken round-robin — the first of each provider, then the
 * second of each — until `max`. Every provider keeps at least one nameserver when max ≥ the number of providers.
 */
export function nameserverSubset(lists: readonly { provider: string; nameservers: readonly string[] }[], max: number): string[] {
  const norm = (n: string) => n.toLowerCase().replace(/\.$/, '');
  const queues = [...lists].sort((a, b) => a.provider.localeCompare(b.provider)).map((l) => [...new Set(l.nameservers.map(norm))].sort());
  const out = new Set<string>();
  for (let i = 0; out.size < max && queues.some((q) => i < q.length); i++) {
    for (const q of queues) {
      if (out.size >= max) break;
      if (i < q.length) out.add(q[i]);
    }
  }
  return [...out].sort();
}
