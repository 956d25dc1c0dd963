import { hostname } from 'node:os';
import type { FleetSpec } from '../domain/fleet-spec.ts';
import type { State } from '../domain/state.ts';
import { SoloCluster, type Cluster, type LeaderInfo, type VantageRecord } from './cluster.ts';
import { EtcdStateStore } from './etcd-state-store.ts';
import { FileStateStore } from './file-state-store.ts';
import type { StateStore } from './state-store.ts';

/** The store a stack names: a directory (embedded default) or etcd (shared by several controllers and responders). */
export function openStore(spec: Pick<FleetSpec, 'stack' | 'state'>): StateStore {
  if (spec.state.kind === 'etcd') return new EtcdStateStore({ endpoints: spec.state.endpoints, prefix: stackPrefix(spec) });
  return new FileStateStore(spec.state.path);
}

/** The replicas of a stack as seen by the daemon of `vantage`: etcd (several controllers) or itself alone (file store). */
export async function openCluster(spec: Pick<FleetSpec, 'stack' | 'state'>, vantage: string, log?: (line: string) => void): Promise<Cluster> {
  if (spec.state.kind !== 'etcd') return new SoloCluster(vantage);
  // imported for an etcd stack only: its etcd3 package (gRPC, protobufjs) would be most of a file-store command's start-up
  const { EtcdCluster } = await import('./etcd-cluster.ts');
  return new EtcdCluster({ endpoints: spec.state.endpoints, prefix: stackPrefix(spec), vantage, leaseTtlS: Math.round((spec.state.leaseMs ?? 10_000) / 1000), log });
}

/**
 * The vantages and leader for a command that is no replica (`status`, `apply`): with etcd, what the replicas
 * published; with the file store, the one vantage whose health is the saved state.
 */
export async function clusterView(spec: Pick<FleetSpec, 'stack' | 'state'>, st: State): Promise<{ kind: 'solo' | 'etcd'; vantages: VantageRecord[]; leader?: LeaderInfo }> {
  if (spec.state.kind !== 'etcd') return { kind: 'solo', vantages: [{ name: hostname(), live: true, at: st.updatedAt, health: st.health }] };
  const { readClusterView } = await import('./etcd-cluster.ts');
  return { kind: 'etcd', ...(await readClusterView({ endpoints: spec.state.endpoints, prefix: stackPrefix(spec) })) };
}

function stackPrefix(spec: Pick<FleetSpec, 'stack'>): string {
  return `/flotilla/${spec.stack}/`;
}
