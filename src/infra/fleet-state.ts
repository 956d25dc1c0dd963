import type { FleetSpec } from '../domain/fleet-spec.ts';
import type { Health } from '../domain/health.ts';
import type { Override } from '../domain/override.ts';
import { openStore } from '../state/open-store.ts';

/** What the Pulumi program needs from the controller's state to publish the same answer the controller would. */
export interface FleetState {
  health: Health;
  overrides: Override[];
  /** Mirrors in the last published answer (the fail-open fallback). */
  lastGood: string[];
  /** Zone → DNS providers the delegation guard pruned from the delegation (absent: none). */
  pruned?: Record<string, string[]>;
  /**
   * The signed manifest the daemon last published, as served (absent: none yet). A deploy step copies it to every
   * mirror's web root: src/manifest/manifest-files.ts (manifestDeployFiles) says which files and where.
   */
  manifestJson?: string;
}

/**
 * The controller's view, read through the same StateStore the daemon writes (infra ← state: the design's arrows
 * leave this out, but reading the controller's state is what keeps `pulumi up` from re-adding a mirror that is down,
 * and a DNS provider's nameservers that the delegation guard pruned at the registrar).
 */
export async function readFleetState(spec: Pick<FleetSpec, 'stack' | 'state'>): Promise<FleetState> {
  const st = await openStore(spec).load();
  return { health: st.health, overrides: st.overrides, lastGood: st.lastGood, pruned: st.delegation?.pruned ?? {}, ...(st.manifest ? { manifestJson: st.manifest.json } : {}) };
}

/** Where the program read the controller's state from, for its log (etcd is read too: the same store the daemon writes). */
export function stateSourceNote(spec: Pick<FleetSpec, 'stack' | 'state'>): string {
  const where = spec.state.kind === 'etcd' ? `etcd (${spec.state.endpoints.join(', ')}, prefix /flotilla/${spec.stack}/)` : `the state directory ${spec.state.path}`;
  return `health, overrides and the last good answer read from the controller's state in ${where}`;
}
