/**
 * The folder layering of DESIGN.md ("Layout": arrows are the only allowed imports) as data, and a pure check of
 * import edges against it. The edges come from TypeScript's own import scanner (static, dynamic and type imports).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** src/<folder> → the src folders it may import. `domain` is imported by all. */
export const ALLOWED: Record<string, readonly string[]> = {
  domain: [],
  // config validates each provider's and registrar's settings with the schema in its own folder (descriptors are data;
  // driver code is only loaded lazily by the registry)
  config: ['domain', 'drivers', 'registrars'],
  planner: ['domain'],
  // the DNS wire client, transports and rdata/zone-file encoders (src/dns/) serve probes, drivers and verification
  probes: ['domain', 'dns'],
  drivers: ['domain', 'net', 'dns'],
  // socket plumbing shared by the embedded DNS server and the HTTP server (connection caps)
  net: ['domain'],
  state: ['domain'],
  // the one home for the DNS wire client, transports and rdata/zone-file encoders (issue 13)
  dns: ['domain'],
  // folders not yet in DESIGN.md: issue 12's delegation watch, signed manifest and registrars (the rfc2136
  // registrar reuses the rfc2136 driver)
  // the delegation watch asks providers for their nameservers and registrars for the delegation
  delegation: ['domain', 'dns', 'drivers', 'registrars'],
  manifest: ['domain'],
  registrars: ['domain', 'drivers'],
  controller: ['domain', 'config', 'planner', 'probes', 'drivers', 'state', 'dns'],
  server: ['domain', 'controller', 'net'],
  // issue 10: ACME certificates; the DNS-01 challenge rides the controller's provider pass and verification
  certs: ['domain', 'config', 'planner', 'drivers', 'state', 'controller'],
  // infra reads each provider's descriptor (its Pulumi half lives in src/infra/dns/); the deploy step installs the
  // files src/manifest says every mirror serves (the published manifest: manifestDeployFiles)
  infra: ['domain', 'config', 'planner', 'drivers', 'dns', 'manifest'],
  cli: ['domain', 'config', 'planner', 'probes', 'drivers', 'state', 'dns', 'delegation', 'manifest', 'registrars', 'net', 'controller', 'server', 'infra', 'certs'],
};

/**
 * Arrows outside DESIGN.md that the code has today, each with why it is tolerated. Keep this list short: an arrow
 * here is a design debt, not a rule.
 */
export const EXCEPTIONS: readonly { from: string; to: string; why: string }[] = [
  { from: 'infra', to: 'state', why: 'documented exception (src/infra/fleet-state.ts): `pulumi up` reads the delegation guard\'s prune state so it never re-adds at the registrar the nameservers of a DNS provider the guard pruned (health and overrides are not read: serving records are the controller\'s)' },
  { from: 'server', to: 'probes', why: 'debt: metrics.ts types the controller\'s "probe" event with ProbeResult from src/probes; that value type belongs in src/domain' },
];

/** Files of a folder another may import that it still must not, each with the rule it would break. */
export const FILE_RULES: readonly { from: string; file: string; rule: string }[] = [
  {
    from: 'server',
    file: 'controller/controller.ts',
    rule: 'src/server/ reads a running controller only through its read-only view and changes it only through ControllerCommands (src/controller/controller-view.ts), never the Controller class (issue 11)',
  },
];

/** Packages only one folder may import. */
export const PACKAGE_RULES: readonly { test: (pkg: string) => boolean; only: string; rule: string }[] = [
  { test: (p) => p === '@pulumi' || p.startsWith('@pulumi/'), only: 'infra', rule: 'only src/infra imports @pulumi/*' },
  { test: (p) => p === 'cloudflare' || p.startsWith('cloudflare/') || (p.startsWith('@aws-sdk/client-route-53') && !p.startsWith('@aws-sdk/client-route-53-domains')), only: 'drivers', rule: 'only src/drivers talks to DNS APIs (provider SDKs)' },
  { test: (p) => p.startsWith('@aws-sdk/client-route-53-domains'), only: 'registrars', rule: 'only src/registrars talks to registrar APIs (Route 53 Domains)' },
];

export interface ImportEdge {
  file: string;
  specifier: string;
  fromFolder: string;
  toFolder?: string;
  /** The imported file relative to src/, with `/` (e.g. `controller/controller.ts`). */
  toFile?: string;
  pkg?: string;
}
export interface Violation { file: string; specifier: string; rule: string }

/** Every import of every .ts file under `srcDir`, with the src folder it lands in (relative) or the package. */
export function importEdges(srcDir: string): ImportEdge[] {
  const out: ImportEdge[] = [];
  for (const file of tsFiles(srcDir)) {
    const fromFolder = relative(srcDir, file).split(sep)[0];
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      const edge: ImportEdge = { file: relative(join(srcDir, '..'), file), specifier: fileName, fromFolder };
      if (fileName.startsWith('.')) {
        const rel = relative(srcDir, resolve(dirname(file), fileName));
        edge.toFolder = rel.startsWith('..') ? `<outside src: ${rel}>` : rel.split(sep)[0];
        if (!rel.startsWith('..')) edge.toFile = rel.split(sep).join('/');
      } else {
        edge.pkg = fileName;
      }
      out.push(edge);
    }
  }
  return out;
}

/** The edges that break a rule, each with the rule it breaks. Pure. */
export function layeringViolations(edges: readonly ImportEdge[], allowed = ALLOWED, exceptions = EXCEPTIONS): Violation[] {
  const v: Violation[] = [];
  for (const e of edges) {
    if (e.pkg !== undefined) {
      for (const r of PACKAGE_RULES) if (r.test(e.pkg) && e.fromFolder !== r.only) v.push({ file: e.file, specifier: e.specifier, rule: r.rule });
      continue;
    }
    const to = e.toFolder!;
    for (const r of FILE_RULES) if (r.from === e.fromFolder && r.file === e.toFile) v.push({ file: e.file, specifier: e.specifier, rule: r.rule });
    if (to === e.fromFolder) continue;
    const may = allowed[e.fromFolder];
    if (!may) {
      v.push({ file: e.file, specifier: e.specifier, rule: `src/${e.fromFolder}/ is not in the layering table (test/support/layering.ts): add it with the imports DESIGN.md allows it` });
    } else if (!may.includes(to) && !exceptions.some((x) => x.from === e.fromFolder && x.to === to)) {
      v.push({ file: e.file, specifier: e.specifier, rule: `src/${e.fromFolder}/ may import only ${may.length ? may.map((f) => `src/${f}/`).join(', ') : 'nothing of src/'} (DESIGN.md "Layout"), not src/${to}/` });
    }
  }
  return v;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}
