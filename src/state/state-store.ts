import type { AuditEvent } from '../domain/audit.ts';
import { StateError } from '../domain/errors.ts';
import type { State } from '../domain/state.ts';
import type { Fence } from './cluster.ts';

/** One page of the audit log: see StateStore.auditPage. */
export interface AuditQuery {
  /** Only events at or after this time (ms). */
  since?: number;
  /** The `next` cursor of the previous page: continue with the events before it. */
  before?: string;
  /** Events per page (default 100). */
  limit?: number;
}

export interface AuditPage {
  /** Oldest first. */
  events: AuditEvent[];
  /** Lines or keys met on the way that are not events (torn by a crash, edited by hand): left out, counted here. */
  skipped: number;
  /** Cursor for the page of older events; absent when there are none. */
  next?: string;
}

/**
 * Where the controller keeps its state and audit log.
 * - load() returns the latest state (an empty state with version 0 when there is none). What is stored is parsed
 *   with the state schema: anything else (not JSON, `null`, a string where a number belongs) throws
 *   StateCorruptError (code STATE_CORRUPT, exit 2) naming where it is, and save() then refuses too: a state that
 *   cannot be read is never overwritten.
 * - save(next, expectedVersion) writes `next` with version expectedVersion+1 only if the stored version is still
 *   expectedVersion; returns false (and writes nothing) when someone else saved first. It refuses to write a
 *   state that would not read back (StateError STATE_CORRUPT).
 * - append(e) durably appends one audit event before it resolves, and rejects when it could not; entries are never
 *   rewritten or dropped (except whole old segments beyond a store's retention).
 * - audit(since, limit) reads the newest `limit` (default 1000) events at or after `since` (ms), oldest first,
 *   without reading the whole log; auditPage() pages through all of it, newest page first.
 * - A store that cannot be reached or written throws StateError STATE_UNAVAILABLE.
 */
export interface StateStore {
  load(): Promise<State>;
  save(next: State, expectedVersion: number): Promise<boolean>;
  append(e: AuditEvent): Promise<void>;
  audit(since?: number, limit?: number): Promise<AuditEvent[]>;
  auditPage(q: AuditQuery): Promise<AuditPage>;
  close?(): Promise<void>;
  /**
   * From now on, save() writes only while `fence.key` still has create revision `fence.createRevision`, checked in
   * the same transaction, and throws FencedError (NOT_LEADER) otherwise. Stores without a leader (file) lack it.
   */
  setFence?(fence: Fence | undefined): void;
}

/** Default number of events audit() returns. */
export const AUDIT_LIMIT = 1000;

/** load → mutate → save, retried when another writer saved in between. Returns the saved state. */
export async function updateState(store: StateStore, mutate: (s: State) => State | void, attempts = 20): Promise<State> {
  for (let i = 0; i < attempts; i++) {
    const cur = await store.load();
    const draft = structuredClone(cur);
    const next = mutate(draft) ?? draft;
    if (await store.save(next, cur.version)) return { ...next, version: cur.version + 1 };
  }
  throw new StateError('STATE_CONFLICT', `state store: ${attempts} saves in a row lost to concurrent writers; try again`);
}
