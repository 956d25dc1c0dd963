import * as pulumi from '@pulumi/pulumi';
import { loadStack } from '../config/load-stack.ts';
import type { FleetSpec } from '../domain/fleet-spec.ts';
import { PULUMI_DNS } from './dns/pulumi-dns-table.ts';
import type { PulumiDnsMocks } from './dns/pulumi-dns-half.ts';
import { fleetProgram } from './fleet-program.ts';
import { hex, octet } from './mock-values.ts';
import { collectingLog } from './program-log.ts';
import { secretSource } from './secrets.ts';

/**
 * Runs the Pulumi program in this process under `pulumi.runtime.setMocks`: no Pulumi CLI, no cloud account, no
 * network. Every resource the program registers is collected with its type token, name and inputs (secret inputs
 * replaced by REDACTED); mocked providers answer with plausible outputs (addresses from documentation ranges,
 * nameserver names, an AMI id).
 *
 * setMocks replaces Pulumi's process-global runtime settings (monitor, project, stack). So:
 * - never call this in a process that runs a real Pulumi program (pulumi-main.ts);
 * - calls are queued, one at a time: each resets the mocks before it runs. One call per process is the case the CLI
 *   (`flotilla preview --mock`) and the tests rely on; sequential calls work, concurrent ones wait their turn.
 */

export const REDACTED = '[secret]';

export interface PreviewResource {
  /** Pulumi type token, e.g. `aws:ec2/instance:Instance`, `flotilla:mirror:AwsMirror`, `pulumi:providers:aws`. */
  type: string;
  name: string;
  /** False for component resources (they group others and have no cloud object). */
  custom: boolean;
  inputs: Record<string, unknown>;
}

export interface MockPreviewOptions {
  /** Stack name: loads `stacks/Pulumi.<stack>.yaml` from the project at `cwd`. Or give `spec`. */
  stack?: string;
  spec?: FleetSpec;
  cwd?: string;
  /** Secrets come from here (default process.env); missing ones become placeholders, never errors. */
  env?: Record<string, string | undefined>;
}

export interface MockPreviewResult {
  stack: string;
  resources: PreviewResource[];
  /** The stack outputs the program returned. */
  outputs: Record<string, unknown>;
  /** What the program logged (info/warn). */
  log: { level: 'info' | 'warn'; message: string }[];
  /**
   * Where a secret's value showed up NOT marked secret (it is redacted in this result anyway). Empty unless the
   * program has a bug: a real `pulumi up` would store and show those values in plain text.
   */
  plainSecrets: string[];
}

let queue: Promise<unknown> = Promise.resolve();

export function mockPreview(opts: MockPreviewOptions): Promise<MockPreviewResult> {
  const run = queue.then(() => runOnce(opts));
  queue = run.catch(() => undefined);
  return run;
}

async function runOnce(opts: MockPreviewOptions): Promise<MockPreviewResult> {
  const spec = opts.spec ?? (await loadStack({ stack: opts.stack, cwd: opts.cwd }));
  const secrets = secretSource(opts.env ?? process.env, 'placeholder');
  const log = collectingLog();
  const registered: { type: string; name: string; custom: boolean; inputs: Record<string, unknown> }[] = [];

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, custom: args.custom ?? true, inputs: args.inputs });
        return mockResource(args.type, args.name, args.inputs);
      },
      call(args) {
        return mockCall(args.token, args.inputs);
      },
    },
    'flotilla',
    spec.stack,
    false,
  );

  // called directly (no root Stack resource): a spec error then rejects this call instead of surfacing as an
  // unhandled rejection inside Pulumi's stack machinery
  const outputs: Record<string, unknown> = await fleetProgram(spec, { log, secrets });
  // resources not reachable from the outputs (markers, settings) may still be registering: wait for every RPC
  await settle(() => registered.length);
  for (const name of secrets.unset) log.warn(`environment variable ${name} is not set: a real \`pulumi up\` would stop there`);

  const plainSecrets: string[] = [];
  const ctx = { values: [...secrets.seen].filter((s) => s.length >= 4), found: (where: string) => void plainSecrets.push(where) };
  const resources: PreviewResource[] = [];
  for (const r of registered) {
    if (r.type === 'pulumi:pulumi:Stack') continue;
    resources.push({ type: r.type, name: r.name, custom: r.custom, inputs: (await clean(r.inputs, ctx, `${r.type} ${r.name}`)) as Record<string, unknown> });
  }
  return {
    stack: spec.stack,
    resources,
    outputs: (await clean(outputs, ctx, 'outputs')) as Record<string, unknown>,
    log: log.lines.map((l, i) => ({ level: l.level, message: scrub(l.message, ctx, `log[${i}]`) })),
    plainSecrets,
  };
}

interface CleanContext {
  /** Known secret values (from the program's SecretSource). */
  values: string[];
  found(where: string): void;
}

/** Waits until the runtime has no RPC in flight and no new resource arrived in a full turn of the event loop. */
async function settle(count: () => number): Promise<void> {
  // waitForRPCs is exported by the runtime's settings module but missing from its type declarations
  const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  for (let i = 0, seen = -1; i < 100 && seen !== count(); i++) {
    seen = count();
    if (waitForRPCs) await waitForRPCs();
    await new Promise((r) => setImmediate(r));
  }
}

function isSecret(v: unknown): boolean {
  return !!v && typeof v === 'object' && (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;
}

function scrub(s: string, ctx: CleanContext, where: string): string {
  let out = s;
  for (const v of ctx.values) {
    if (!out.includes(v)) continue;
    out = out.split(v).join(REDACTED);
    ctx.found(where);
  }
  return out;
}

/** Plain JSON: secrets REDACTED (by marker, and any known secret value anywhere), assets and archives named. */
async function clean(v: unknown, ctx: CleanContext, where: string): Promise<unknown> {
  if (isSecret(v)) return REDACTED;
  if (typeof v === 'string') return scrub(v, ctx, where);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return Promise.all(v.map((x, i) => clean(x, ctx, `${where}[${i}]`)));
  if (pulumi.Output.isInstance(v)) {
    const o = v as pulumi.Output<unknown>;
    return (await pulumi.isSecret(o)) ? REDACTED : clean(await outputValue(o), ctx, where);
  }
  if (pulumi.asset.Archive.isInstance(v) || pulumi.asset.Asset.isInstance(v)) {
    const o = v as unknown as Record<string, unknown>;
    const where = (await o.path) ?? (await o.uri) ?? (o.text === undefined ? undefined : '(text)');
    return { [pulumi.asset.Archive.isInstance(v) ? 'archive' : 'asset']: where ?? '(in memory)' };
  }
  if (pulumi.Resource.isInstance(v)) return { resource: await outputValue((v as pulumi.Resource).urn) };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = await clean(x, ctx, `${where}.${k}`);
  return out;
}

/** The value of an Output (all values are known under mocks outside a dry run). */
function outputValue<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((x) => (resolve(x), x)));
}

const dnsMocks: PulumiDnsMocks[] = Object.values(PULUMI_DNS).map((h) => h.mocks);
const DNS_RESOURCES: PulumiDnsMocks['resources'] = Object.assign({}, ...dnsMocks.map((m) => m.resources));
const DNS_CALLS: NonNullable<PulumiDnsMocks['calls']> = Object.assign({}, ...dnsMocks.map((m) => m.calls ?? {}));

/** Plausible provider answers (documentation address ranges: RFC 5737, RFC 3849). */
export function mockResource(type: string, name: string, inputs: Record<string, unknown>): { id: string; state: Record<string, unknown> } {
  switch (type) {
    case 'aws:ec2/instance:Instance':
      return { id: `i-${hex(name, 17)}`, state: { ...inputs, publicIp: `198.51.100.${octet(name)}`, privateIp: `10.0.0.${octet(name)}`, ipv6Addresses: [] } };
    case 'aws:ec2/securityGroup:SecurityGroup':
      return { id: `sg-${hex(name, 17)}`, state: inputs };
    case 'aws:ec2/eip:Eip':
      return { id: `eipalloc-${hex(name, 17)}`, state: { ...inputs, allocationId: `eipalloc-${hex(name, 17)}`, publicIp: `198.51.100.${octet(name)}` } };
    case 'hcloud:index/primaryIp:PrimaryIp':
      return { id: String(40_000_000 + octet(name)), state: { ...inputs, ipAddress: inputs.type === 'ipv6' ? `2001:db8:${octet(name).toString(16)}::/64` : `192.0.2.${octet(name)}` } };
    case 'hcloud:index/server:Server':
      return { id: String(10_000_000 + octet(name)), state: { ...inputs, ipv4Address: `192.0.2.${octet(name)}`, ipv6Address: `2001:db8:${octet(name).toString(16)}::1` } };
    case 'hcloud:index/firewall:Firewall':
      return { id: String(20_000_000 + octet(name)), state: inputs };
    default:
      return DNS_RESOURCES[type]?.(name, inputs) ?? { id: `${name}-id`, state: inputs };
  }
}

export function mockCall(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case 'aws:ec2/getAmi:getAmi': {
      const filters = (inputs.filters as { name: string; values: string[] }[] | undefined) ?? [];
      const arch = filters.find((f) => f.name === 'architecture')?.values[0] ?? 'x86_64';
      const id = `ami-${hex(JSON.stringify(inputs), 17)}`;
      return { id, imageId: id, architecture: arch, name: filters.find((f) => f.name === 'name')?.values[0] ?? 'mock' };
    }
    default:
      if (DNS_CALLS[token]) return DNS_CALLS[token](inputs);
      throw new Error(`mock preview: no mock for provider function ${token}`);
  }
}

/** A text table of the resources: type, name and the inputs that matter for each kind. */
export function renderPreview(resources: readonly PreviewResource[]): string {
  const rows = resources.map((r) => [r.type, r.name, keyInputs(r)]);
  const head = ['TYPE', 'NAME', 'KEY INPUTS'];
  const w0 = Math.max(head[0].length, ...rows.map((r) => r[0].length));
  const w1 = Math.max(head[1].length, ...rows.map((r) => r[1].length));
  const line = (r: string[]) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`.trimEnd();
  return [line(head), ...rows.map(line), '', `${resources.filter((r) => r.custom).length} resources, ${resources.filter((r) => !r.custom).length} components`].join('\n');
}

const KEYS: Record<string, string[]> = {
  'aws:ec2/instance:Instance': ['region', 'instanceType', 'ami', 'userData'],
  'aws:ec2/securityGroup:SecurityGroup': ['region', 'ingress'],
  'hcloud:index/server:Server': ['name', 'location', 'serverType', 'image', 'userData'],
  'hcloud:index/firewall:Firewall': ['name', 'rules'],
  'aws:route53domains/registeredDomain:RegisteredDomain': ['domainName', 'nameServers'],
  'command:remote:CopyToRemote': ['source', 'remotePath', 'connection'],
  'command:remote:Command': ['connection', 'create'],
  'aws:ec2/eip:Eip': ['region', 'domain'],
  'hcloud:index/primaryIp:PrimaryIp': ['name', 'type', 'location', 'autoDelete'],
  ...Object.assign({}, ...dnsMocks.map((m) => m.keyInputs)),
};

function keyInputs(r: PreviewResource): string {
  const keys = KEYS[r.type] ?? Object.keys(r.inputs).filter((k) => !k.startsWith('__')).slice(0, 4);
  return keys
    .filter((k) => r.inputs[k] !== undefined)
    .map((k) => `${k}=${short(k, r.inputs[k])}`)
    .join(' ');
}

function short(key: string, v: unknown): string {
  if (typeof v === 'string' && (key === 'userData' || key === 'create')) return `(${Buffer.byteLength(v)} bytes)`;
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 70 ? `${s.slice(0, 67)}...` : s;
}
