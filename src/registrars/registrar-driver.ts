/**
 * A registrar (or a parent zone you run) whose delegation of a domain flotilla can read and set at run time, so the
 * nameservers of a lost DNS provider can be pruned from the delegation and put back. Like DNS drivers, registrar
 * drivers decide nothing: src/delegation/prune-plan.ts decides, they only read and write.
 */
export interface RegistrarDriver {
  readonly name: string;
  readonly kind: string;
  /** Most nameservers the registrar accepts for one domain. */
  readonly maxNameservers: number;
  /** The NS names the parent lists for `domain` (lower case, no trailing dot, sorted). */
  getNameservers(domain: string, signal?: AbortSignal): Promise<string[]>;
  /** Replaces the NS set for `domain`; resolves when the registrar accepted it. Throws a DriverError otherwise. */
  setNameservers(domain: string, nameservers: readonly string[], signal?: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}
