import { DELEGATED_NAMESERVERS } from './fleet-spec.ts';
import { normalizeName } from './records.ts';

/**
 * Which of a DNS provider's nameservers a delegation lists: ONE rule shared by `pulumi up` (registrar and every apex
 * NS set, src/infra), the delegation guard and `flotilla domains` (src/delegation, src/cli), so what the guard
 * expects at the parent is exactly what Pulumi delegated. Pure.
 */

/** Normalised nameserver names (lower case, no trailing dot), deduplicated and sorted. */
export function normalizeNameservers(names: readonly string[]): string[] {
  return [...new Set(names.map(normalizeName).filter((n) => n !== ''))].sort();
}

/** How many of its nameservers a provider delegates: its `delegatedNameservers`, default DELEGATED_NAMESERVERS. */
export function delegatedCount(p: { delegatedNameservers?: number }): number {
  return p.delegatedNameservers ?? DELEGATED_NAMESERVERS;
}

/**
 * The provider's delegated nameservers: the first `count` of its sorted, normalised list (stable across runs, so
 * nothing flaps). A provider with fewer names gives all it has (`pulumi up` refuses that case before it delegates).
 */
export function delegatedSubset(names: readonly string[], count: number): string[] {
  return normalizeNameservers(names).slice(0, Math.max(0, count));
}
