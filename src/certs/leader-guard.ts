import type { Cluster } from '../state/cluster.ts';
import { FencedError } from '../state/fenced-error.ts';
import type { WriteGuard } from './cert-job.ts';

/**
 * The certificate work's guard on several controllers: the same fence as the controller's DNS writes (check() is
 * cluster.fence(): etcd confirms the leader key still holds this leader's create revision), and that fence compared
 * in every certificate-store save. A save without leadership throws FencedError; it is never sent unfenced.
 * Undefined for the solo cluster (one daemon, file store: nothing to fence).
 */
export function leaderGuard(cluster: Pick<Cluster, 'kind' | 'fence' | 'currentFence'>): WriteGuard | undefined {
  if (cluster.kind !== 'etcd') return undefined;
  return {
    check: () => cluster.fence(),
    fences: () => {
      const f = cluster.currentFence();
      if (!f) throw new FencedError('certificate save', 'no leadership held');
      return [f];
    },
  };
}
