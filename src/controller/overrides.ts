import { randomBytes } from 'node:crypto';
import type { AuditEvent } from '../domain/audit.ts';
import { formatDuration, parseDuration } from '../domain/duration.ts';
import { UsageError } from '../domain/errors.ts';
import type { FleetSpec } from '../domain/fleet-spec.ts';
import { activeOverrides, type Override } from '../domain/override.ts';
import type { State } from '../domain/state.ts';
import { servingMirrors } from '../planner/desired-records.ts';

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

  if (!cmd.force) {
    if (cmd.kind === 'drain') {
      const before = servingMirrors(spec, state.health, kept, opts);
      const after = servingMirrors(spec, state.health, nextOverrides, opts);
      if (before.serving.includes(cmd.mirror) && (after.serving.includes(cmd.mirror) || after.failOpen)) {
        throw new OverrideConflictError(
          `${cmd.mirror} is the last serving mirror (serving now: ${before.serving.join(', ')}); draining it would leave nothing to answer with. ` +
            `Use force to record the drain anyway: it takes effect once another mirror is up`,
        );
      }
    } else {
      const h = state.health[cmd.mirror];
      if (h?.state === 'down') {
        throw new OverrideConflictError(
          `${cmd.mirror} is down (${h.lastReason ?? 'no reason recorded'}); sending all traffic to it would take the site offline. Use force to do it anyway`,
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
