import type { z } from 'zod';
import type { DnsProviderKind } from '../domain/fleet-spec.ts';
import type { DnsDriver, DriverCapabilities, DriverContext } from './dns-driver.ts';

/** What a descriptor's loader gets: the parsed settings, the secrets' source, and where local state lives. */
export interface DriverLoadContext<S> extends DriverContext<S> {
  /** The state directory (the embedded server's zones default to `<stateDir>/zones`). */
  stateDir: string;
}

/**
 * One DNS provider kind as one unit: its settings schema, its capabilities as data, who creates its zones, the
 * README's words for it, and a loader that imports the driver module only when a stack uses the kind.
 * The registry lists every descriptor in one table the compiler checks against DnsProviderKind.
 */
export interface ProviderDescriptor<K extends DnsProviderKind = DnsProviderKind, S extends z.ZodType = z.ZodType> {
  readonly kind: K;
  /** zod schema of `dnsProviders[i].settings` (strict). Secrets are names of environment variables, never values. */
  readonly settings: S;
  /** What the provider accepts (the driver declares the same data; maxBatch may follow the settings). */
  readonly capabilities: DriverCapabilities;
  /** Who creates the zones: Pulumi (its half is src/infra/dns/<kind>.ts) or the operator (the controller only writes records). */
  readonly zones: 'pulumi' | 'operator';
  /** Words for the README provider table (`npm run docs:providers`). */
  readonly docs: {
    writes: string;
    /** Overrides the plain `maxBatch` figure, e.g. `200 (\`batchSize\`)`. */
    batch?: string;
    /** Overrides the plain `minTtl` figure, e.g. `1 (60 advised)`. */
    minTtl?: string;
    atomicBatch?: string;
    provenAgainst: string;
  };
  /** Imports the driver module and builds the driver (settings already parsed by `settings`). */
  load(ctx: DriverLoadContext<z.output<S>>): Promise<DnsDriver>;
}
