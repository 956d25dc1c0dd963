import type { FleetSpec } from '../domain/fleet-spec.ts';
import { openStore } from '../state/open-store.ts';

/** What the Pulumi program takes from the daemon's state: only what the delegation guard decided. */
export interface FleetState {
  /** Zone → DNS providers the delegation guard pruned from the delegation (absent: none). */
  pruned?: Record<string, string[]>;
  /**
   * The signed manifest the daemon last published, as served (absent: none yet). A deploy step copies it to every
   * mirror's web root: src/manifest/manifest-files.ts (manifestDeployFiles) says which files and where.
   */
  manifestJson?: string;
  /** Its sequence (absent with manifestJson): named in the deploy step, so a preview shows which manifest goes out. */
  manifestSequence?: number;
}

/**
 * The delegation guard's decisions, read through the same StateStore the daemon writes (infra ← state: the design's
 * arrows leave this out, but without it `pulumi up` would re-add at the registrar the nameservers of a DNS provider
 * the guard pruned because it went lame). Health and overrides are NOT read: serving records are the controller's.
 */
export async function readFleetState(spec: Pick<FleetSpec, 'stack' | 'state'>): Promise<FleetState> {
  const st = await openStore(spec).load();
  return { pruned: st.delegation?.pruned ?? {}, ...(st.manifest ? { manifestJson: st.manifest.json, manifestSequence: st.manifest.sequence } : {}) };
}

/** Where the program read the guard's decisions from, for its log. */
export function stateSourceNote(spec: Pick<FleetSpec, 'stack' | 'state'>): string {
  const where = spec.state.kind === 'etcd' ? `etcd (${spec.state.endpoints.join(', ')}, prefix /flotilla/${spec.stack}/)` : `the state directory ${spec.state.path}`;
  return `the delegation guard's pruned providers read from the daemon's state in ${where}`;
}
