import type { FleetSpec } from '../domain/fleet-spec.ts';
import { EtcdStateStore } from './etcd-state-store.ts';
import { FileStateStore } from './file-state-store.ts';
import type { StateStore } from './state-store.ts';

/** The store a stack names: a directory (embedded default) or etcd (shared by several controllers and responders). */
export function openStore(spec: Pick<FleetSpec, 'stack' | 'state'>): StateStore {
  if (spec.state.kind === 'etcd') return new EtcdStateStore({ endpoints: spec.state.endpoints, prefix: `/flotilla/${spec.stack}/` });
  return new FileStateStore(spec.state.path);
}
