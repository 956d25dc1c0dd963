import { z } from 'zod';
import type { AuditEvent } from '../domain/audit.ts';
import { MIRROR_PROVIDERS } from '../domain/fleet-spec.ts';
import { RECORD_TYPES } from '../domain/records.ts';
import { ipv4Address, ipv6Address } from '../domain/setting-values.ts';
import type { State } from '../domain/state.ts';

/**
 * The stored forms of State and AuditEvent. Both stores parse what they read with these and refuse anything else:
 * valid JSON of another shape (`null`, `[]`, `42`, a string where a number belongs) is never read as "empty".
 * Objects keep fields this version does not know (a newer flotilla may have written them); fields added since the
 * first release default to empty. Times are ms since the epoch within the range a Date can hold.
 */
const time = z.number().min(0).max(8.64e15);
const count = z.number().int().min(0);

const mirrorHealth = z.looseObject({
  state: z.enum(['up', 'down', 'unknown']),
  successStreak: count,
  failureStreak: count,
  since: time.optional(),
  recentFlips: z.array(time),
  lastReason: z.string().optional(),
  deplatformed: z.string().optional(),
  lastLatencyMs: z.number().min(0).optional(),
  lastProbeAt: time.optional(),
  awaitingRise: z.boolean().optional(),
});

const override = z.looseObject({
  id: z.string().min(1),
  kind: z.enum(['drain', 'failover']),
  mirror: z.string().min(1),
  reason: z.string(),
  author: z.string(),
  createdAt: time,
  expiresAt: time.optional(),
});

const recordSet = z.looseObject({
  name: z.string(),
  type: z.enum(RECORD_TYPES),
  ttl: count,
  values: z.array(z.string()),
});

const providerStatus = z.looseObject({
  lastAppliedAt: time.optional(),
  lastConvergedAt: time.optional(),
  lastConvergeMs: z.number().min(0).optional(),
  lastError: z.string().optional(),
  lastErrorCode: z.string().optional(),
  verifiedServing: z.string().optional(),
  records: z.record(z.string(), z.array(recordSet)).optional(),
  unattributed: z.array(z.string()).optional(),
});

const inventoryEntry = z.looseObject({
  provider: z.enum(MIRROR_PROVIDERS),
  ipv4: ipv4Address.optional(),
  ipv6: ipv6Address.optional(),
  resourceId: z.string().min(1).optional(),
  digest: z.string().min(1).optional(),
  at: time,
  source: z.enum(['pulumi', 'stack-file']),
});

export const inventorySchema = z.looseObject({
  updatedAt: time,
  stack: z.string().optional(),
  mirrors: z.record(z.string().min(1), inventoryEntry),
  destroyedAt: time.optional(),
});

const delegationRecord = z.looseObject({
  pruned: z.record(z.string(), z.array(z.string())).default({}),
  lost: z.record(z.string(), z.looseObject({ since: time, reason: z.string() })).default({}),
});

const publishedManifest = z.looseObject({ sequence: count, publishedAt: time, json: z.string() });

export const stateSchema: z.ZodType<State> = z.looseObject({
  version: count,
  updatedAt: time.default(0),
  health: z.record(z.string(), mirrorHealth).default({}),
  overrides: z.array(override).default([]),
  lastGood: z.array(z.string()).default([]),
  providers: z.record(z.string(), providerStatus).default({}),
  controller: z.object({ at: time, host: z.string(), pid: count }).optional(),
  delegation: delegationRecord.optional(),
  manifest: publishedManifest.optional(),
  inventory: inventorySchema.optional(),
});

export const auditEventSchema: z.ZodType<AuditEvent> = z.looseObject({
  at: time,
  kind: z.string(),
  message: z.string(),
  actor: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

/** The state in `text`, or the list of problems (`path: what was expected`) that make it not one. */
export function parseState(text: string): { ok: true; state: State } | { ok: false; problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, problems: [`(whole value): not valid JSON (${(e as Error).message})`] };
  }
  return checkState(raw);
}

/** Checks a state value against the schema (the stores also check what they are about to write). */
export function checkState(raw: unknown): { ok: true; state: State } | { ok: false; problems: string[] } {
  const r = stateSchema.safeParse(raw);
  if (r.success) return { ok: true, state: r.data };
  return { ok: false, problems: r.error.issues.slice(0, 10).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(whole value)'}: ${i.message}`) };
}

/** One audit line or etcd value as an event, or undefined when it is not one (torn by a crash, edited by hand). */
export function parseAuditEvent(text: string): AuditEvent | undefined {
  try {
    const r = auditEventSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
