import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../domain/errors.ts';
import { MIRROR_PROVIDERS, type FleetSpec } from '../domain/fleet-spec.ts';
import { MIRRORS_OUTPUT, SITE_DIGEST_OUTPUT, type Inventory, type InventoryEntry } from '../domain/inventory.ts';
import { ipv4Address, ipv6Address } from '../domain/setting-values.ts';

/**
 * Stack outputs (the JSON `pulumi stack output --json --show-secrets` prints) → the mirror inventory. Pure. The
 * output names are the contract in src/domain/inventory.ts, which src/infra/fleet-program.ts returns.
 */

const absent = z.union([z.null(), z.literal('')]).transform(() => undefined);
const mirrorOutput = z.looseObject({
  provider: z.enum(MIRROR_PROVIDERS),
  ipv4: z.union([absent, ipv4Address]).optional(),
  ipv6: z.union([absent, ipv6Address]).optional(),
  resourceId: z.union([absent, z.string(), z.number().transform(String)]).optional(),
  digest: z.union([absent, z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 in hex (64 characters)')]).optional(),
});
const outputsSchema = z.looseObject({
  [MIRRORS_OUTPUT]: z.record(z.string().min(1), mirrorOutput),
  [SITE_DIGEST_OUTPUT]: z.string().optional(),
});

/**
 * The inventory the outputs describe, for the mirrors of `spec`. `source` names where the JSON came from (for the
 * error). Throws ConfigError (exit 2) listing every problem: not JSON, no `mirrors` output, a field of the wrong
 * shape, a mirror the stack file does not have or whose host kind differs. Mirrors of the spec missing from the
 * outputs are simply not in the inventory (not provisioned).
 */
export function inventoryFromOutputs(text: string, spec: Pick<FleetSpec, 'stack' | 'mirrors'>, at: number, source: string): Inventory {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(source, [{ path: '(whole output)', message: `expected the JSON of \`pulumi stack output --json\`, found text that is not JSON (${(e as Error).message})` }]);
  }
  // a stack never deployed (or destroyed) has no outputs at all: no host is known, which is not an error
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && Object.keys(raw).length === 0) return { updatedAt: at, stack: spec.stack, mirrors: {} };
  const r = outputsSchema.safeParse(raw);
  if (!r.success) {
    throw new ConfigError(source, r.error.issues.slice(0, 20).map((i): ConfigIssue => ({ path: i.path.length > 0 ? i.path.join('.') : '(whole output)', message: i.message })));
  }
  const outputs = r.data;
  const issues: ConfigIssue[] = [];
  const mirrors: Record<string, InventoryEntry> = {};
  const byName = new Map(spec.mirrors.map((m) => [m.name, m]));
  for (const [name, o] of Object.entries(outputs[MIRRORS_OUTPUT])) {
    const m = byName.get(name);
    if (!m) {
      issues.push({ path: `${MIRRORS_OUTPUT}.${name}`, message: `a mirror the stack file of ${spec.stack} does not have (expected one of ${[...byName.keys()].join(', ')}): is this the right stack?` });
      continue;
    }
    if (m.provider !== o.provider) {
      issues.push({ path: `${MIRRORS_OUTPUT}.${name}.provider`, message: `expected ${m.provider} (as in the stack file), found ${o.provider}` });
      continue;
    }
    const digest = o.digest ?? outputs[SITE_DIGEST_OUTPUT];
    const e: InventoryEntry = { provider: o.provider, at, source: 'pulumi' };
    if (o.ipv4) e.ipv4 = o.ipv4;
    if (o.ipv6) e.ipv6 = o.ipv6;
    if (o.resourceId) e.resourceId = o.resourceId;
    if (digest) e.digest = digest;
    mirrors[name] = e;
  }
  if (issues.length > 0) throw new ConfigError(source, issues);
  return { updatedAt: at, stack: spec.stack, mirrors };
}
