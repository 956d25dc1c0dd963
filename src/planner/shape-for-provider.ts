import { PlanRefusedError } from '../domain/errors.ts';
import type { RecordSet, RecordType } from '../domain/records.ts';

/** The part of a provider's declared capabilities that decides what may be written there. */
export interface ShapeCapabilities {
  /** Lowest TTL the provider accepts (seconds). */
  minTtl: number;
  types: readonly RecordType[];
}

export interface ShapedRecords {
  records: RecordSet[];
  /** One line per TTL raised, e.g. `cloudflare: ttl 30 raised to 60, the provider's floor`; validate and plan print them. */
  notes: string[];
}

/**
 * The desired records as this provider can hold them. Pure; the controller's provider pass, `flotilla apply`,
 * `plan`, `validate` and the Pulumi program all shape through it, so all of them write the same TTL. A TTL below
 * the provider's floor is raised to it (with a note); a record type the provider does not take is refused
 * (PlanRefusedError naming the provider, the record and the types it takes): writing it would fail on every pass.
 */
export function shapeForProvider(records: readonly RecordSet[], caps: ShapeCapabilities, provider = 'provider'): ShapedRecords {
  const unsupported = records.filter((r) => !caps.types.includes(r.type));
  if (unsupported.length > 0) {
    const what = [...new Set(unsupported.map((r) => `${r.type} at ${r.name}`))].join(', ');
    throw new PlanRefusedError(`${provider}: cannot hold ${what}: the provider takes only ${caps.types.join(', ')} records`);
  }
  const raised = new Set<number>();
  const shaped = records.map((r) => {
    if (r.ttl >= caps.minTtl) return r;
    raised.add(r.ttl);
    return { ...r, ttl: caps.minTtl };
  });
  const notes = [...raised].sort((a, b) => a - b).map((ttl) => `${provider}: ttl ${ttl} raised to ${caps.minTtl}, the provider's floor`);
  return { records: shaped, notes };
}
