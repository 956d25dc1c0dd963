import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from '../domain/errors.ts';

/** Where the program reads secrets and how it treats a missing one. */
export interface SecretSource {
  env: Record<string, string | undefined>;
  /** `throw` for real deployments; `placeholder` lets a mock preview run without credentials. */
  missing: 'throw' | 'placeholder';
  /** Every secret value handed out, so a preview can prove none leaks (and redact any that does). */
  seen: Set<string>;
  /** Required variables that were missing (placeholder mode only). */
  unset: Set<string>;
}

export function secretSource(env: Record<string, string | undefined> = process.env, missing: SecretSource['missing'] = 'throw'): SecretSource {
  return { env, missing, seen: new Set(), unset: new Set() };
}

/** The value of env var `name` as a Pulumi secret. The message on a missing variable names it, never a value. */
export function requiredSecret(src: SecretSource, name: string, what: string): pulumi.Output<string> {
  const v = src.env[name];
  if (v) {
    src.seen.add(v);
    return pulumi.secret(v);
  }
  if (src.missing === 'throw') {
    throw new ConfigError('(environment)', [{ path: name, message: `environment variable ${name} is not set (${what})` }]);
  }
  src.unset.add(name);
  return pulumi.secret(`(unset ${name})`);
}

/** Like requiredSecret, but undefined when the variable is unset: the provider then uses its own defaults. */
export function optionalSecret(src: SecretSource, name: string | undefined): pulumi.Output<string> | undefined {
  const v = name ? src.env[name] : undefined;
  if (!v) return undefined;
  src.seen.add(v);
  return pulumi.secret(v);
}
