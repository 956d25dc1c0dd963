import { z } from 'zod';
import { parseDuration } from '../domain/duration.ts';
import { DNS_PROVIDER_KINDS, MIRROR_PROVIDERS, REGISTRAR_KINDS } from '../domain/fleet-spec.ts';
import { providerSettingsSchemas } from '../domain/provider-settings.ts';

/** zod schema of `flotilla:fleet` in a stack file. Unknown keys are errors everywhere: typos must not pass. */

const duration = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a positive duration with a unit (250ms, 2s, 5m, 1h), found ${JSON.stringify(s)}` });
    return z.NEVER;
  }
  return ms;
});
const positiveDuration = duration.refine((ms) => ms > 0, 'expected a duration greater than zero');

const dnsName = z
  .string()
  .transform((s) => s.toLowerCase().replace(/\.$/, ''))
  .refine((s) => /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/.test(s), 'expected a domain name like example.com');
const ipv4 = z.string().regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/, 'expected an IPv4 address');
const ipv6 = z.string().regex(/^[0-9a-fA-F:]+$/, 'expected an IPv6 address').refine((s) => s.includes(':'), 'expected an IPv6 address');
const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a short name: lower-case letters, digits and dashes');
const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const healthSchema = z
  .object({
    probe: z.enum(['http', 'tcp', 'dns']).default('http'),
    interval: positiveDuration.default(10_000),
    fastInterval: positiveDuration.optional(),
    timeout: positiveDuration.default(2_000),
    rise: z.number().int().min(1).default(2),
    fall: z.number().int().min(1).default(3),
    path: z.string().startsWith('/').default('/'),
    host: z.string().optional(),
    scheme: z.enum(['http', 'https']).default('http'),
    port: z.number().int().min(1).max(65535).optional(),
    expectStatus: z.array(z.number().int().min(100).max(599)).min(1).default([200]),
    bodyMatch: z.string().optional(),
    checkDigest: z.boolean().default(true),
    tlsMinDays: z.number().int().min(0).default(7),
    latencyBudget: positiveDuration.optional(),
    jitter: z.number().min(0).max(0.5).default(0.1),
  })
  .strict();

/** Per-mirror overrides: the same fields, none defaulted (a default here would silently replace the fleet's value). */
const mirrorHealthSchema = z
  .object({
    probe: z.enum(['http', 'tcp', 'dns']).optional(),
    interval: positiveDuration.optional(),
    fastInterval: positiveDuration.optional(),
    timeout: positiveDuration.optional(),
    rise: z.number().int().min(1).optional(),
    fall: z.number().int().min(1).optional(),
    path: z.string().startsWith('/').optional(),
    host: z.string().optional(),
    scheme: z.enum(['http', 'https']).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    expectStatus: z.array(z.number().int().min(100).max(599)).min(1).optional(),
    bodyMatch: z.string().optional(),
    checkDigest: z.boolean().optional(),
    tlsMinDays: z.number().int().min(0).optional(),
    latencyBudget: positiveDuration.optional(),
    jitter: z.number().min(0).max(0.5).optional(),
  })
  .strict();

const mirrorSchema = z
  .object({
    name,
    provider: z.enum(MIRROR_PROVIDERS),
    ipv4: ipv4.optional(),
    ipv6: ipv6.optional(),
    weight: z.number().int().min(0).default(1),
    region: z.string().optional(),
    size: z.string().optional(),
    image: z.string().optional(),
    sshUser: z.string().optional(),
    sshKeyEnv: z.string().optional(),
    health: mirrorHealthSchema.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if ((m.provider === 'ssh' || m.provider === 'local') && !m.ipv4 && !m.ipv6)
      ctx.addIssue({ code: 'custom', path: ['ipv4'], message: `a ${m.provider} mirror needs its address (ipv4 or ipv6)` });
    if ((m.provider === 'aws' || m.provider === 'hcloud') && !m.region)
      ctx.addIssue({ code: 'custom', path: ['region'], message: `an ${m.provider} mirror needs a region` });
    if (m.provider === 'ssh' && !m.sshKeyEnv)
      ctx.addIssue({ code: 'custom', path: ['sshKeyEnv'], message: 'an ssh mirror needs sshKeyEnv: the environment variable holding its private key' });
  });

const dnsProviderSchema = z
  .object({ name, kind: z.enum(DNS_PROVIDER_KINDS), settings: z.record(z.string(), z.unknown()).default({}) })
  .strict()
  .transform((p, ctx) => {
    const r = providerSettingsSchemas[p.kind].safeParse(p.settings);
    if (!r.success) {
      for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: ['settings', ...(i.path as (string | number)[])], message: i.message });
      return z.NEVER;
    }
    return { name: p.name, kind: p.kind, settings: r.data as Record<string, string | number | boolean | string[]> };
  });

const registrarSchema = z
  .object({
    name,
    kind: z.enum(REGISTRAR_KINDS),
    domain: dnsName,
    accountId: z.string().optional(),
  })
  .strict();

export const fleetSchema = z
  .object({
    site: z.object({ name: z.string().min(1), contentDir: z.string().min(1) }).strict(),
    domain: dnsName,
    alternateDomains: z.array(dnsName).default([]),
    mirrors: z.array(mirrorSchema).min(1, 'expected at least one mirror'),
    dnsProviders: z.array(dnsProviderSchema).min(1, 'expected at least one DNS provider'),
    registrars: z.array(registrarSchema).default([]),
    health: healthSchema.default(healthSchema.parse({})),
    canaries: z.array(z.object({ target: z.string().min(1) }).strict()).default([]),
    policy: z
      .object({
        ttl: z.number().int().min(1).default(60),
        minHealthy: z.number().int().min(1).default(1),
        maxRemoveShare: z.number().min(0).max(1).default(0.5),
        ownerId: z.string().regex(/^[A-Za-z0-9_.-]+$/).optional(),
      })
      .strict()
      .default({ ttl: 60, minHealthy: 1, maxRemoveShare: 0.5 }),
    state: z
      .object({ kind: z.enum(['file', 'etcd']).default('file'), path: z.string().default('.flotilla/state'), endpoints: z.array(z.string()).default([]) })
      .strict()
      .default({ kind: 'file', path: '.flotilla/state', endpoints: [] }),
    alerts: z
      .object({
        webhooks: z
          .array(
            z
              .object({
                name: z.string().optional(),
                url: z.string().url(),
                kind: z.enum(['json', 'slack']).default('json'),
                /** Environment variable holding the HMAC secret for `json` webhooks. */
                secretEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable').optional(),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .default({ webhooks: [] }),
    server: z
      .object({ listen: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8080), tokenEnv: z.string().default('FLOTILLA_API_TOKEN') })
      .strict()
      .default({ listen: '127.0.0.1', port: 8080, tokenEnv: 'FLOTILLA_API_TOKEN' }),
  })
  .strict()
  .superRefine((f, ctx) => {
    dupes(f.mirrors.map((m) => m.name), ['mirrors'], 'mirror', ctx);
    dupes(f.dnsProviders.map((p) => p.name), ['dnsProviders'], 'DNS provider', ctx);
    if (f.state.kind === 'etcd' && f.state.endpoints.length === 0)
      ctx.addIssue({ code: 'custom', path: ['state', 'endpoints'], message: 'state.kind etcd needs endpoints, e.g. [http://127.0.0.1:2379]' });
    if (f.health.timeout > f.health.interval)
      ctx.addIssue({ code: 'custom', path: ['health', 'timeout'], message: 'expected a timeout no longer than the interval' });
  });

function dupes(names: string[], path: (string | number)[], what: string, ctx: z.RefinementCtx) {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (seen.has(n)) ctx.addIssue({ code: 'custom', path: [...path, i, 'name'], message: `duplicate ${what} name ${JSON.stringify(n)}` });
    seen.add(n);
  });
}

export type FleetInput = z.input<typeof fleetSchema>;
export type FleetParsed = z.output<typeof fleetSchema>;
export const scalarSchema = scalar;
