import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isMap, LineCounter, parseDocument, visit } from 'yaml';
import type { ZodError } from 'zod';
import { ConfigError, type ConfigIssue } from '../domain/errors.ts';
import type { FleetSpec } from '../domain/fleet-spec.ts';
import { fleetSchema, type FleetParsed } from './fleet-schema.ts';
import { digestSite } from './site-digest.ts';
import { SiteTreeError } from './site-tree.ts';

export const NAMESPACE = 'flotilla';
const FLEET_KEY = `${NAMESPACE}:fleet`;

export interface StackRef {
  /** Stack name: reads `<projectDir>/stacks/Pulumi.<stack>.yaml`. */
  stack?: string;
  /** Or a direct path to a stack file. */
  file?: string;
  /** Where to look for Pulumi.yaml (default: cwd and upwards). */
  cwd?: string;
}

/** The project root: the nearest directory holding Pulumi.yaml, from `cwd` upwards (or cwd itself). */
export function findProjectDir(cwd = process.cwd()): string {
  for (let d = resolve(cwd); ; d = dirname(d)) {
    if (existsSync(join(d, 'Pulumi.yaml'))) return d;
    if (dirname(d) === d) return resolve(cwd);
  }
}

export function stackFilePath(ref: StackRef): string {
  if (ref.file) return resolve(ref.cwd ?? process.cwd(), ref.file);
  if (!ref.stack) throw new ConfigError('(command line)', [{ path: '--stack', message: 'expected --stack NAME or --config FILE' }], 'CONFIG_NOT_FOUND');
  return join(findProjectDir(ref.cwd), 'stacks', `Pulumi.${ref.stack}.yaml`);
}

/** Loads and validates a stack file into a FleetSpec. Every problem is reported at once as a ConfigError. */
export async function loadStack(ref: StackRef): Promise<FleetSpec & { file: string; projectDir: string }> {
  const file = stackFilePath(ref);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    const hint = ref.stack ? ` (stacks: ${listStacks(dirname(file)).join(', ') || 'none found'})` : '';
    throw new ConfigError(file, [{ path: '(file)', message: `stack file not found${hint}` }], 'CONFIG_NOT_FOUND');
  }
  const stack = ref.stack ?? (/^Pulumi\.(.+)\.ya?ml$/.exec(basename(file))?.[1] ?? basename(file).replace(/\.ya?ml$/, ''));
  const projectDir = ref.file ? findProjectDir(dirname(file)) : findProjectDir(ref.cwd);
  const raw = parseYaml(file, text);
  const { fleetRaw, issues } = extractFleet(file, raw);
  const parsed = fleetSchema.safeParse(fleetRaw);
  if (!parsed.success) issues.push(...zodIssues(parsed.error, fleetRaw));
  if (issues.length > 0 || !parsed.success) throw new ConfigError(file, issues);
  return { ...(await toSpec(file, projectDir, stack, parsed.data)), file, projectDir };
}

function listStacks(dir: string): string[] {
  try {
    return readdirSync(dir)
      .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
      .filter((x): x is string => !!x);
  } catch {
    return [];
  }
}

/**
 * Aliases a stack file may expand, in all. A stack file needs a handful at most; the limit stops "billion laughs"
 * (a few lines of nested aliases expanding to gigabytes) before it costs memory or time.
 */
const MAX_ALIAS_COUNT = 100;

function parseYaml(file: string, text: string): unknown {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lc.linePos(e.pos[0]);
        return { path: `line ${pos.line}, column ${pos.col}`, message: `not valid YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  if (!isMap(doc.contents)) throw new ConfigError(file, [{ path: '(top)', message: 'expected a Pulumi stack file: a mapping with a `config:` key' }]);
  const badAliases: ConfigIssue[] = [];
  visit(doc, {
    Alias(_, node, ancestors) {
      const target = node.resolve(doc);
      const pos = lc.linePos(node.range?.[0] ?? 0);
      const at = `line ${pos.line}, column ${pos.col}`;
      if (target === undefined) badAliases.push({ path: at, message: `not valid YAML: the alias *${node.source} names no anchor (&${node.source}) set before it` });
      // a value that contains itself has no end: nothing can read it
      else if (ancestors.includes(target as never)) badAliases.push({ path: at, message: `the alias *${node.source} is inside the value it names (a circular reference)` });
    },
  });
  if (badAliases.length > 0) throw new ConfigError(file, badAliases);
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // the yaml package expands aliases only here, and throws a ReferenceError for a runaway expansion
    const msg = String((e as Error)?.message ?? e).split('\n')[0];
    const message = /excessive alias count/i.test(msg)
      ? `too many YAML aliases to expand (the limit is ${MAX_ALIAS_COUNT}): the file looks like an alias bomb; write the values out`
      : `the YAML cannot be read: ${msg}`;
    throw new ConfigError(file, [{ path: '(aliases)', message }]);
  }
}

function extractFleet(file: string, raw: unknown): { fleetRaw: unknown; issues: ConfigIssue[] } {
  const top = raw as Record<string, unknown>;
  const issues: ConfigIssue[] = [];
  const config = top.config as Record<string, unknown> | undefined;
  if (!config || typeof config !== 'object') {
    throw new ConfigError(file, [{ path: 'config', message: `expected a \`config:\` mapping holding \`${FLEET_KEY}\`` }]);
  }
  for (const key of Object.keys(config)) {
    if (key.startsWith(`${NAMESPACE}:`) && key !== FLEET_KEY) issues.push({ path: key, message: `unknown key: flotilla reads only ${FLEET_KEY}` });
  }
  if (!(FLEET_KEY in config)) {
    issues.push({ path: FLEET_KEY, message: 'missing: the fleet spec (site, domain, mirrors, dnsProviders, ...)' });
    throw new ConfigError(file, issues);
  }
  findPlainSecrets(config[FLEET_KEY], FLEET_KEY, issues);
  return { fleetRaw: config[FLEET_KEY], issues };
}

/** Secrets must be `secure:` values or env var names; a plain value under a secret-looking key is refused. */
function findPlainSecrets(v: unknown, path: string, issues: ConfigIssue[]): void {
  if (Array.isArray(v)) return v.forEach((x, i) => findPlainSecrets(x, `${path}[${i}]`, issues));
  if (!v || typeof v !== 'object') return;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const p = `${path}.${k}`;
    if (/(token|secret|password|apikey|api_key|privatekey)$/i.test(k) && typeof x === 'string')
      issues.push({ path: p, message: `a secret must not be written in the stack file: use ${k}Env with the name of an environment variable` });
    else findPlainSecrets(x, p, issues);
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = FLEET_KEY;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/** Keys earlier versions read and this one does not, with what to do instead (a migration note, not "check the spelling"). */
const REMOVED_KEYS: Record<string, string> = {
  weight: 'is no longer read: nothing ever weighted the answers (every healthy mirror is served, equally); delete the key (to take a mirror out of service use `flotilla drain`)',
};

export function zodIssues(err: ZodError, input: unknown): ConfigIssue[] {
  return err.issues.map((i) => {
    if (i.code === 'unrecognized_keys') {
      const keys = (i as { keys: string[] }).keys;
      const removed = keys.find((k) => REMOVED_KEYS[k] !== undefined && i.path[0] === 'mirrors');
      if (removed) return { path: formatPath([...i.path, removed]), message: `${JSON.stringify(removed)} ${REMOVED_KEYS[removed]}` };
      return { path: formatPath([...i.path, keys[0]]), message: `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => JSON.stringify(k)).join(', ')} (check the spelling)` };
    }
    let message = i.message.replace(/^Invalid input: /, '').replace(/^Invalid option: /, '');
    if (i.code === 'invalid_value' || i.code === 'invalid_format' || i.code === 'too_small' || i.code === 'too_big') {
      const found = valueAt(input, i.path);
      if (found !== undefined && typeof found !== 'object') message += `, found ${JSON.stringify(found)}`;
    }
    return { path: formatPath(i.path), message };
  });
}

async function toSpec(file: string, projectDir: string, stack: string, f: FleetParsed): Promise<FleetSpec> {
  const contentDir = resolve(projectDir, f.site.contentDir);
  if (!existsSync(contentDir) || !statSync(contentDir).isDirectory()) {
    throw new ConfigError(file, [{ path: `${FLEET_KEY}.site.contentDir`, message: `expected a directory with the site's files, found nothing at ${contentDir}` }]);
  }
  let site: Awaited<ReturnType<typeof digestSite>>;
  try {
    site = await digestSite(contentDir);
  } catch (e) {
    if (e instanceof SiteTreeError) throw new ConfigError(file, [{ path: `${FLEET_KEY}.site.contentDir`, message: e.message }]);
    const err = e as NodeJS.ErrnoException;
    const where = err.path ? ` ${err.path}` : '';
    const why = err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : (err.code ?? err.message);
    throw new ConfigError(file, [{ path: `${FLEET_KEY}.site.contentDir`, message: `cannot read${where} (${why}): every file of the site must be readable by flotilla, which digests them all` }]);
  }
  if (Object.keys(site.files).length === 0)
    throw new ConfigError(file, [{ path: `${FLEET_KEY}.site.contentDir`, message: `the directory ${contentDir} holds no files` }]);
  const { latencyBudget, interval, fastInterval, timeout, tlsCaFile, ...h } = f.health;
  const tlsCa = tlsCaFile === undefined ? undefined : await readCaFile(file, projectDir, tlsCaFile, 'health.tlsCaFile');
  const caFiles = new Map<string, string>();
  for (const [i, m] of f.mirrors.entries()) {
    const ca = m.health?.tlsCaFile;
    if (ca !== undefined && !caFiles.has(ca)) caFiles.set(ca, await readCaFile(file, projectDir, ca, `mirrors[${i}].health.tlsCaFile`));
  }
  return {
    stack,
    site: { name: f.site.name, contentDir, digest: site.digest, files: site.files },
    domain: f.domain,
    alternateDomains: f.alternateDomains,
    mirrors: f.mirrors.map((m) => {
      const settings: Record<string, string | number | boolean> = {};
      for (const k of ['region', 'size', 'image', 'sshUser', 'sshKeyEnv'] as const) if (m[k] !== undefined) settings[k] = m[k]!;
      const { tlsCaFile: ownCa, ...mh0 } = m.health ?? {};
      const mh = m.health ? { ...mh0, ...(ownCa !== undefined ? { tlsCa: caFiles.get(ownCa) } : {}) } : undefined;
      const health = mh
        ? Object.fromEntries(
            Object.entries({ ...mh, intervalMs: mh.interval, fastIntervalMs: mh.fastInterval, timeoutMs: mh.timeout, latencyBudgetMs: mh.latencyBudget, interval: undefined, fastInterval: undefined, timeout: undefined, latencyBudget: undefined }).filter(([, v]) => v !== undefined),
          )
        : undefined;
      return { name: m.name, provider: m.provider, ipv4: m.ipv4, ipv6: m.ipv6, settings, health: withDnsPort(f.health, health) };
    }),
    dnsProviders: f.dnsProviders,
    ...(f.deploy ? { deploy: f.deploy } : {}),
    registrars: f.registrars.map((r) => ({ name: r.name, kind: r.kind, domain: r.domain, settings: { ...(r.settings ?? {}), ...(r.accountId ? { accountId: r.accountId } : {}) } as Record<string, string> })),
    health: { ...h, ...(tlsCa !== undefined ? { tlsCa } : {}), intervalMs: interval, fastIntervalMs: fastInterval, timeoutMs: timeout, latencyBudgetMs: latencyBudget },
    canaries: f.canaries,
    policy: { ...f.policy, ownerId: f.policy.ownerId ?? `flotilla-${stack}` },
    state: { kind: f.state.kind, endpoints: f.state.endpoints, leaseMs: f.state.lease, path: resolve(projectDir, f.state.path), ...(f.state.secretsKeyEnv ? { secretsKeyEnv: f.state.secretsKeyEnv } : {}) },
    server: f.server,
    alerts: f.alerts,
    certs: f.certs && { directory: acmeDirectoryUrl(f.certs.directory), email: f.certs.email, renewAt: f.certs.renewAt, verifyTimeoutMs: f.certs.verifyTimeout, checkIntervalMs: f.certs.checkInterval, deploy: f.certs.deploy },
    delegation: { ...f.delegation, timeoutMs: f.delegation.timeout, intervalMs: f.delegation.interval, rdapBootstrap: /^https?:\/\//.test(f.delegation.rdapBootstrap) ? f.delegation.rdapBootstrap : resolve(projectDir, f.delegation.rdapBootstrap) },
  };
}

/** ACME directory names the stack file may use instead of a URL. */
const ACME_DIRECTORIES: Record<string, string> = {
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
};

export function acmeDirectoryUrl(nameOrUrl: string): string {
  return ACME_DIRECTORIES[nameOrUrl] ?? nameOrUrl;
}

/** A CA bundle for chain checks: a readable file holding at least one PEM certificate. */
async function readCaFile(file: string, projectDir: string, path: string, setting: string): Promise<string> {
  const abs = resolve(projectDir, path);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [{ path: `${FLEET_KEY}.${setting}`, message: `cannot read ${abs} (${(e as NodeJS.ErrnoException).code ?? 'error'}): expected a PEM file of CA certificates` }]);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(file, [{ path: `${FLEET_KEY}.${setting}`, message: `${abs} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` }]);
  return text;
}

/**
 * A dns probe with no port asks port 53, not the http default: the port is made explicit per mirror (not in the
 * fleet's health, where a mirror switching back to http would inherit it).
 */
function withDnsPort(fleet: FleetParsed['health'], own: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const probe = own?.probe ?? fleet.probe;
  if (probe !== 'dns' || own?.port !== undefined || fleet.port !== undefined) return own;
  return { ...own, port: 53 };
}
