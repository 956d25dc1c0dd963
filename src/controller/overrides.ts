import { randomBytes } from 'node:crypto';
import type { AuditEvent } from '../domain/audit.ts';
import { formatDuration, parseDuration } from '../domain/duration.ts';
import { StateError, UsageError } from '../domain/errors.ts';
import type { FleetSpec } from '../domain/fleet-spec.ts';
import type { Health } from '../domain/health.ts';
import { activeOverrides, type Override } from '../domain/override.ts';
import type { State } from '../domain/state.ts';
import { isProvisioned, notProvisionedReason, withInventory } from '../domain/inventory.ts';
import { servingMirrors } from '../planner/desired-records.ts';
import type { StateStore } from '../state/state-store.ts';

/**
 * A responder's command, as the CLI (`flotilla drain|undrain|failover|clear`) and the HTTP API both express it.
 * - drain: take `mirror` out of the answer. Replaces an active drain of the same mirror.
 * - failover: send all traffic to `mirror` alone. Replaces every active failover.
 * - undrain: remove every active drain of `mirror` (a no-op, not an error, when there is none).
 * - clear: remove every active override of `mirror` (drain and failover), or only the one with `id`.
 * `for` is a duration string (`30m`, `2h`); without it the override lasts until removed by hand.
 * `force` records a drain of the last serving mirror, or a failover to a mirror that is down, which are refused otherwise.
 */
export type OverrideCommand =
  | { kind: 'drain' | 'failover'; mirror: string; reason: string; author: string; for?: string; force?: boolean; id?: string }
  | { kind: 'undrain'; mirror: string; author: string }
  | { kind: 'clear'; mirror: string; author: string; id?: string };

export interface OverrideResult {
  /** The next state: only `overrides` differs from the input. The input is never mutated. */
  state: State;
  /** The override added (drain, failover). */
  override?: Override;
  /** Overrides removed (undrain, clear, or replaced by a new drain/failover). */
  removed: Override[];
  /** False when nothing changed (undrain of a mirror that is not drained): write nothing, audit nothing. */
  changed: boolean;
  /** One line for a person. */
  message: string;
  /** The audit event to append when `changed` (kind `override`); `at` is filled by the writer. */
  audit?: Omit<AuditEvent, 'at'>;
}

/** Refused because it would take the site off the air (last serving mirror, failover to a dead one): HTTP 409. */
export class OverrideConflictError extends UsageError {
  constructor(message: string) {
    super(message);
  }
}

/**
 * Applies one responder command to the state. Pure except for the random id (pass `id` to fix it).
 * Health is read from `state.health`; a caller with fresher health (the daemon) passes a state carrying it.
 * Throws UsageError for an unknown mirror, a missing reason or a bad duration, and OverrideConflictError (a
 * UsageError) when the command would empty the answer or point it at a mirror that is down, unless `force`.
 */
export function applyOverrideCommand(state: State, spec: Pick<FleetSpec, 'mirrors' | 'policy'>, cmd: OverrideCommand, now: number): OverrideResult {
  const known = spec.mirrors.map((m) => m.name);
  if (!known.includes(cmd.mirror)) {
    throw new UsageError(`unknown mirror "${cmd.mirror}"; known mirrors: ${known.join(', ') || '(none)'}`);
  }
  if (!cmd.author?.trim()) throw new UsageError('an override needs an author');
  const active = activeOverrides(state.overrides, now);
  const isActive = (o: Override) => active.includes(o);

  if (cmd.kind === 'undrain' || cmd.kind === 'clear') {
    const removed = state.overrides.filter((o) =>
      isActive(o) && o.mirror === cmd.mirror && (cmd.kind === 'clear' ? cmd.id === undefined || o.id === cmd.id : o.kind === 'drain'),
    );
    const what = cmd.kind === 'undrain' ? 'drain' : cmd.id !== undefined ? `override ${cmd.id}` : 'override';
    if (removed.length === 0) {
      return { state, removed, changed: false, message: `${cmd.mirror} has no active ${what}; nothing changed` };
    }
    const next = { ...state, overrides: state.overrides.filter((o) => !removed.includes(o)) };
    const message = `removed ${removed.map(describe).join('; ')}`;
    return {
      state: next,
      removed,
      changed: true,
      message,
      audit: { kind: 'override', message: `${cmd.kind} ${cmd.mirror} by ${cmd.author}: ${message}`, actor: cmd.author, data: { action: cmd.kind, mirror: cmd.mirror, removed: removed.map((o) => o.id) } },
    };
  }

  const reason = cmd.reason?.trim() ?? '';
  if (!reason) throw new UsageError(`a ${cmd.kind} needs a reason (who is affected and why), e.g. --reason "disk full"`);
  let expiresAt: number | undefined;
  if (cmd.for !== undefined) {
    const ms = parseDuration(cmd.for);
    if (ms === undefined || ms <= 0) throw new UsageError(`"${cmd.for}" is not a duration; write e.g. 30m, 2h, 1h30m`);
    expiresAt = now + ms;
  }
  const override: Override = { id: cmd.id ?? randomBytes(6).toString('hex'), kind: cmd.kind, mirror: cmd.mirror, reason, author: cmd.author, createdAt: now };
  if (expiresAt !== undefined) override.expiresAt = expiresAt;

  // A new drain of a mirror replaces its old drain; a new failover replaces every failover (the latest wins anyway).
  const replaced = state.overrides.filter((o) => isActive(o) && o.kind === cmd.kind && (cmd.kind === 'failover' || o.mirror === cmd.mirror));
  const kept = state.overrides.filter((o) => !replaced.includes(o));
  const nextOverrides = [...kept, override];
  const opts = { now, lastGood: state.lastGood };
  // the inventory's addresses decide which mirrors can serve at all
  const resolved = withInventory(spec, state.inventory);

  if (!cmd.force) {
    if (cmd.kind === 'drain') {
      const before = servingMirrors(resolved, state.health, kept, opts);
      const after = servingMirrors(resolved, state.health, nextOverrides, opts);
      if (before.serving.includes(cmd.mirror) && (after.serving.includes(cmd.mirror) || after.failOpen)) {
        throw new OverrideConflictError(
          `${cmd.mirror} is the last serving mirror (serving now: ${before.serving.join(', ')}); draining it would leave nothing to answer with. ` +
            `Pass --force (API: "force": true) to record the drain anyway: it takes effect once another mirror is up`,
        );
      }
    } else {
      const h = state.health[cmd.mirror];
      const target = resolved.mirrors.find((m) => m.name === cmd.mirror);
      if (target && !isProvisioned(target)) throw new OverrideConflictError(`${notProvisionedReason(cmd.mirror)}; a failover to it is ignored until it has an address`);
      if (h?.state === 'down') {
        throw new OverrideConflictError(
          `${cmd.mirror} is down (${h.lastReason ?? 'no reason recorded'}); sending all traffic to it would take the site offline. Pass --force (API: "force": true) to do it anyway`,
        );
      }
    }
  }

  const until = expiresAt === undefined ? 'until removed' : `for ${formatDuration(expiresAt - now)}`;
  const verb = cmd.kind === 'drain' ? `drained ${cmd.mirror}` : `failover to ${cmd.mirror}`;
  const message = `${verb} ${until} (id ${override.id})${replaced.length > 0 ? `; replaces ${replaced.map(describe).join('; ')}` : ''}`;
  return {
    state: { ...state, overrides: nextOverrides },
    override,
    removed: replaced,
    changed: true,
    message,
    audit: {
      kind: 'override',
      message: `${verb} by ${cmd.author} ${until}: ${reason}`,
      actor: cmd.author,
      data: { action: cmd.kind, mirror: cmd.mirror, id: override.id, reason, expiresAt, force: cmd.force === true, replaced: replaced.map((o) => o.id) },
    },
  };
}

function describe(o: Override): string {
  return `${o.kind} of ${o.mirror} (id ${o.id}, by ${o.author}: ${o.reason})`;
}

export interface OverrideDeps {
  store: StateStore;
  spec: Pick<FleetSpec, 'mirrors' | 'policy'>;
  /** Appends one event durably; MUST reject when it could not (the command then changes nothing). */
  audit: (e: AuditEvent) => Promise<unknown>;
  /**
   * The health and last good set a running daemon acts on, when the caller runs inside it (the HTTP API). Without
   * it the command judges by the health saved in the store, which is the daemon's own, shared through the store:
   * a running daemon saves it on every decision and at least every 5 s; with no daemon it is the last one known.
   * Either way the rule is checked against what the process that publishes the answer believes.
   */
  live?: () => { health: Health; lastGood: string[] };
  /** Added to the audit event's `data` (e.g. `via: 'api'`). */
  auditData?: Record<string, unknown>;
  now?: () => number;
}

export interface OverrideOutcome extends OverrideResult {
  /** The state as saved (or as loaded, when nothing changed). */
  saved: State;
}

/**
 * THE override command path: `flotilla drain|undrain|failover|clear` and POST /api/{drain,...} both run this.
 * 1. Load the state and apply the command to it (applyOverrideCommand): a UsageError or OverrideConflictError is
 *    thrown before anything is written.
 * 2. Nothing to change (undrain of a mirror that is not drained): nothing is written, nothing audited.
 * 3. Audit first: append the event. If that fails, throw StateError STATE_UNAVAILABLE: nothing changed.
 * 4. Save with the version check. When another writer saved first, go back to 1 with the same override id (the
 *    event already appended describes this command). If the command no longer applies to the newer state, or the
 *    save fails, a second event (best effort) says it was not applied, and the error is thrown.
 * Only `overrides` is written; health and last good set are never written by this path.
 */
export async function runOverrideCommand(deps: OverrideDeps, command: OverrideCommand, attempts = 20): Promise<OverrideOutcome> {
  const now = (deps.now ?? Date.now)();
  // one id for every attempt, so the audit entry names the override that is saved
  const cmd: OverrideCommand = (command.kind === 'drain' || command.kind === 'failover') && command.id === undefined ? { ...command, id: randomBytes(6).toString('hex') } : command;
  let audited: AuditEvent | undefined;
  try {
    for (let i = 0; i < attempts; i++) {
      const cur = await deps.store.load();
      const judged = deps.live ? { ...cur, ...deps.live() } : cur;
      const r = applyOverrideCommand(judged, deps.spec, cmd, now);
      if (!r.changed) {
        if (audited) throw new StateError('STATE_CONFLICT', `another responder changed the overrides first: ${r.message}`);
        return { ...r, saved: cur };
      }
      if (!audited) {
        const ev: AuditEvent = { at: now, actor: cmd.author, ...r.audit!, data: { ...r.audit!.data, ...deps.auditData } };
        try {
          await deps.audit(ev);
        } catch (e) {
          throw new StateError('STATE_UNAVAILABLE', `the audit entry could not be written, so nothing was changed: ${(e as Error).message}`, { cause: e });
        }
        audited = ev;
      }
      const next = { ...cur, overrides: r.state.overrides };
      if (await deps.store.save(next, cur.version)) return { ...r, saved: { ...next, version: cur.version + 1 } };
    }
    throw new StateError('STATE_CONFLICT', `${attempts} saves in a row lost to concurrent writers; nothing was changed, try again`);
  } catch (e) {
    if (audited) {
      const why = (e as Error).message;
      await deps.audit({ at: (deps.now ?? Date.now)(), kind: 'override', actor: cmd.author, message: `${cmd.kind} ${cmd.mirror} by ${cmd.author} was NOT applied: ${why}`, data: { action: cmd.kind, mirror: cmd.mirror, id: 'id' in cmd ? cmd.id : undefined, applied: false, ...deps.auditData } }).catch(() => undefined);
    }
    throw e;
  }
}
