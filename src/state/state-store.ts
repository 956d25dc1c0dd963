import type { AuditEvent } from '../domain/audit.ts';
import type { State } from '../domain/state.ts';

/**
 * Where the controller keeps its state and audit log.
 * - load() returns the latest state (an empty state with version 0 when there is none).
 * - save(next, expectedVersion) writes `next` with version expectedVersion+1 only if the stored version is still
 *   expectedVersion; returns false (and writes nothing) when someone else saved first.
 * - append(e) durably appends one audit event before it resolves; entries are never rewritten or dropped.
 * - audit(since) reads events at or after `since` (ms), oldest first.
 */
export interface StateStore {
  load(): Promise<State>;
  save(next: State, expectedVersion: number): Promise<boolean>;
  append(e: AuditEvent): Promise<void>;
  audit(since?: number): Promise<AuditEvent[]>;
  close?(): Promise<void>;
}

/** load → mutate → save, retried when another writer saved in between. Returns the saved state. */
export async function updateState(store: StateStore, mutate: (s: State) => State | void, attempts = 20): Promise<State> {
  for (let i = 0; i < attempts; i++) {
    const cur = await store.load();
    const draft = structuredClone(cur);
    const next = mutate(draft) ?? draft;
    if (await store.save(next, cur.version)) return { ...next, version: cur.version + 1 };
  }
  throw new Error('state store: too many concurrent writers');
}
