import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { bundleCli } from '../../bin/bundle-cli.mjs';
import { COMMANDS } from '../../src/cli/commands/index.ts';
import { BIN, REPO } from '../support/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-start-up-'));
const hooks = join(dir, 'log-modules.mjs');
writeFileSync(hooks, `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.MODULE_LOG, r.url + '\\n');
  return r;
}
`);
// ES imports through the hooks above; require() (the bundle's external packages) through Module._load
writeFileSync(join(dir, 'register.mjs'), `import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
register(${JSON.stringify(`file://${hooks}`)});
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const path = Module._resolveFilename(request, parent, isMain);
  if (isAbsolute(path)) appendFileSync(process.env.MODULE_LOG, pathToFileURL(path).href + '\\n');
  return load.call(this, request, parent, isMain);
};
`);

// the bundle `npm run build` makes, built now from src/ into a copy of the package without src/ (so its bin runs it)
const pkg = join(dir, 'package');
mkdirSync(join(pkg, 'bin'), { recursive: true });
for (const f of ['flotilla.mjs', 'run-bundle.mjs']) copyFileSync(join(REPO, 'bin', f), join(pkg, 'bin', f));
copyFileSync(join(REPO, 'package.json'), join(pkg, 'package.json'));
symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'));
const bundleDir = join(pkg, 'dist', 'bundle');
assert.ok(await bundleCli({ root: REPO, outdir: bundleDir }), 'esbuild is not installed');
/** main.cjs and help.cjs (no command named): their URLs and the sources each holds (esbuild's metafiles). */
const bundles = (['main', 'help'] as const).map((name) => ({
  name,
  url: pathToFileURL(join(bundleDir, `${name}.cjs`)).href,
  sources: Object.entries(JSON.parse(readFileSync(join(bundleDir, name === 'main' ? 'meta.json' : `${name}-meta.json`), 'utf8')).outputs as Record<string, { inputs: Record<string, unknown> }>)
    .flatMap(([out, o]) => (out.endsWith(`/${name}.cjs`) ? Object.keys(o.inputs) : [])).filter((i) => i.startsWith('src/')),
}));

/**
 * The sources of the bundle a run evaluated, from V8's coverage of it: esbuild wraps every module reached by a dynamic
 * import in a function named after its path, run at the import; the others run at every start. Undefined: no bundle ran.
 */
function bundleModulesRun(coverageDir: string): { name: string; modules: string[] } | undefined {
  const scripts = readdirSync(coverageDir).flatMap((f) => (JSON.parse(readFileSync(join(coverageDir, f), 'utf8')) as { result: { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[] }).result);
  const ran = bundles.flatMap((b) => {
    const script = scripts.find((s) => s.url === b.url);
    if (script === undefined) return [];
    const lazy = new Map(script.functions.filter((f) => b.sources.includes(f.functionName)).map((f) => [f.functionName, f.ranges[0].count > 0]));
    return [{ name: b.name, modules: b.sources.filter((i) => lazy.get(i) ?? true).map((i) => `/${i}`) }];
  });
  return ran.length === 1 ? ran[0] : undefined;
}

/**
 * Runs the bin and returns what it printed and every module it loaded: ours as `src/x/y` (from src/, or the sources the
 * bundle ran), packages by name. `from`: the sources through tsx, or the bundle.
 */
function run(args: string[], opts: { cwd?: string; bin?: string; env?: Record<string, string>; from?: 'sources' | 'bundle' } = {}) {
  const log = join(dir, `modules-${Math.random().toString(36).slice(2)}.log`);
  const coverage = mkdtempSync(join(dir, 'coverage-'));
  writeFileSync(log, '');
  const bin = opts.bin ?? (opts.from === 'bundle' ? join(pkg, 'bin', 'flotilla.mjs') : BIN);
  const r = spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), bin, ...args], {
    cwd: opts.cwd ?? REPO, encoding: 'utf8', env: { ...process.env, ...opts.env, FLOTILLA_FROM_SOURCE: opts.from === 'sources' ? '1' : '', MODULE_LOG: log, NODE_V8_COVERAGE: coverage }, timeout: 60_000,
  });
  const fromBundle = bundleModulesRun(coverage);
  const urls = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean)), ...(fromBundle?.modules ?? [])];
  const ours = urls.filter((u) => !u.includes('/node_modules/') && !u.startsWith('node:') && !/\/bin\/[^/]+\.mjs$/.test(u)).map((u) => u.replace(/^.*\/(?:src|dist)\/(.*)\.(?:ts|js)$/, 'src/$1'));
  const packages = [...new Set(urls.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p): p is string => !!p))];
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ours, packages, ranBundle: fromBundle !== undefined, bundle: fromBundle?.name };
}

const HEAVY = ['undici', 'prom-client', 'execa', 'cloudflare', 'dns-packet', '@aws-sdk/client-route-53', '@pulumi/pulumi', '@pulumi/aws', 'etcd3', '@grpc/grpc-js'];

after(() => rmSync(dir, { recursive: true, force: true }));

for (const from of ['sources', 'bundle'] as const) describe(`CLI start-up (${from}): only the command being run is imported`, { timeout: 120_000 }, () => {
  it('--help lists every command with its description and imports no command module and no SDK', () => {
    const r = run(['--help'], { from });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.ranBundle, from === 'bundle');
    if (from === 'bundle') assert.equal(r.bundle, 'help', 'with no command named, the bin runs help.cjs');
    const flat = r.stdout.replace(/\s+/g, ' ');
    for (const c of COMMANDS) {
      assert.match(r.stdout, new RegExp(`^  ${c.term.replace(/[[\]]/g, '\\$&')} `, 'm'), `--help lacks ${c.term}`);
      assert.ok(flat.includes(c.description), `--help lacks the description of ${c.name}`);
    }
    assert.deepEqual(r.ours.filter((m) => m.startsWith('src/cli/commands/')), ['src/cli/commands/index']);
    assert.deepEqual(r.packages.filter((p) => p !== 'commander' && p !== 'tsx' && p !== 'esbuild' && p !== 'get-tsconfig' && p !== 'resolve-pkg-maps'), []);
  });

  for (const args of [['status', '--stack', 'local'], ['drain', 'nobody', '--stack', 'local', '--reason', 'start-up test'], ['failover', '--stack', 'local']]) {
    it(`\`flotilla ${args[0]}\` imports its own module only, and no probe, server, driver, SDK or etcd client for a file stack`, () => {
      // failing commands are enough: the imports happen before the work (an unknown mirror, no --to)
      const r = run(args, { from });
      assert.ok(r.code === 0 || r.code === 1 || r.code === 2, r.stderr);
      assert.equal(r.ranBundle, from === 'bundle');
      if (from === 'bundle') assert.equal(r.bundle, 'main');
      assert.doesNotMatch(r.stderr, /unexpected error/);
      const module = args[0] === 'status' ? 'status' : 'overrides';
      assert.deepEqual(r.ours.filter((m) => m.startsWith('src/cli/commands/')).sort(), ['src/cli/commands/index', `src/cli/commands/${module}`]);
      // the stack loader validates provider settings with each provider's descriptor (schemas and capabilities, pure
      // data); no driver implementation, API client or registry of driver code is loaded
      assert.deepEqual(r.ours.filter((m) => /^src\/(probes|server|infra)\//.test(m) || /^src\/drivers\/.*-(driver|api|errors)$/.test(m) || m === 'src/state/etcd-cluster'), []);
      assert.deepEqual(r.packages.filter((p) => HEAVY.includes(p)), []);
    });
  }
});

describe('bin/flotilla.mjs: the bundle in dist/bundle/ (else dist/cli/) when current, else the sources through tsx', { timeout: 120_000 }, () => {
  // a copy of the bin beside a stand-in dist/ and src/ that say which one ran
  const app = mkdtempSync(join(tmpdir(), 'flotilla-bin-'));
  mkdirSync(join(app, 'bin'));
  mkdirSync(join(app, 'dist', 'cli'), { recursive: true });
  mkdirSync(join(app, 'dist', 'bundle'), { recursive: true });
  mkdirSync(join(app, 'src', 'cli'), { recursive: true });
  for (const f of ['flotilla.mjs', 'run-bundle.mjs']) copyFileSync(join(REPO, 'bin', f), join(app, 'bin', f));
  writeFileSync(join(app, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(REPO, 'node_modules'), join(app, 'node_modules'));
  const mainOf = (what: string) => `export async function main(argv) { process.stdout.write(${JSON.stringify(what)} + ' ' + argv.slice(2).join(' ')); return 3; }\n`;
  writeFileSync(join(app, 'src', 'cli', 'main.ts'), mainOf('src'));
  writeFileSync(join(app, 'src', 'cli', 'other.ts'), '');
  writeFileSync(join(app, 'src', 'cli', 'unused.ts'), '');
  writeFileSync(join(app, 'dist', 'cli', 'main.js'), mainOf('dist'));
  const writeBundle = () => {
    writeFileSync(join(app, 'dist', 'bundle', 'main.cjs'), mainOf('bundle').replace('export async function main', 'exports.main = async function main'));
    // the sources the build lists: main.ts and other.ts (unused.ts is in src/ but not in the bundle)
    writeFileSync(join(app, 'dist', 'bundle', 'sources.json'), JSON.stringify(['src/cli/main.ts', 'src/cli/other.ts']));
  };
  writeBundle();
  const bin = join(app, 'bin', 'flotilla.mjs');
  const at = (path: string, secondsAgo: number) => utimesSync(path, new Date(Date.now() - secondsAgo * 1000), new Date(Date.now() - secondsAgo * 1000));
  const sourcesOlder = () => {
    for (const p of ['src/cli/main.ts', 'src/cli/other.ts', 'src/cli/unused.ts', 'src/cli', 'src']) at(join(app, p), 60);
    for (const p of ['dist/cli/main.js', 'dist/bundle/main.cjs']) if (existsSync(join(app, p))) at(join(app, p), 30);
  };
  const ran = (env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [bin, 'status', '--x'], { cwd: app, encoding: 'utf8', env: { ...process.env, FLOTILLA_FROM_SOURCE: '', ...env }, timeout: 60_000 });
    assert.equal(r.status, 3, r.stderr);
    return r.stdout;
  };
  after(() => rmSync(app, { recursive: true, force: true }));

  it('runs the bundle when it is newer than every source it lists, passing the arguments and the exit code through', () => {
    sourcesOlder();
    assert.equal(ran(), 'bundle status --x');
    at(join(app, 'src', 'cli', 'unused.ts'), 0); // not a source of the bundle
    assert.equal(ran(), 'bundle status --x');
  });

  it('runs the sources when a source of the bundle is newer than it, or is gone, or FLOTILLA_FROM_SOURCE=1', () => {
    sourcesOlder();
    at(join(app, 'src', 'cli', 'other.ts'), 0);
    assert.equal(ran(), 'src status --x');
    sourcesOlder();
    rmSync(join(app, 'src', 'cli', 'other.ts'));
    assert.equal(ran(), 'src status --x');
    writeFileSync(join(app, 'src', 'cli', 'other.ts'), '');
    sourcesOlder();
    assert.equal(ran({ FLOTILLA_FROM_SOURCE: '1' }), 'src status --x');
    assert.equal(ran(), 'bundle status --x');
  });

  it('without the list of its sources, runs the bundle only when it is newer than every file and folder under src/', () => {
    rmSync(join(app, 'dist', 'bundle', 'sources.json'));
    sourcesOlder();
    assert.equal(ran(), 'bundle status --x');
    at(join(app, 'src', 'cli', 'unused.ts'), 0);
    assert.equal(ran(), 'src status --x');
    sourcesOlder();
    rmSync(join(app, 'src', 'cli', 'unused.ts'));
    assert.equal(ran(), 'src status --x');
    writeFileSync(join(app, 'src', 'cli', 'unused.ts'), '');
    writeBundle();
  });

  it('runs dist/cli/ when no bundle was built (no esbuild), and the sources when one is newer than it', () => {
    rmSync(join(app, 'dist', 'bundle'), { recursive: true });
    sourcesOlder();
    assert.equal(ran(), 'dist status --x');
    at(join(app, 'src', 'cli', 'other.ts'), 0);
    assert.equal(ran(), 'src status --x');
  });

  it('runs the sources when dist/ was never built', () => {
    rmSync(join(app, 'dist'), { recursive: true });
    assert.equal(ran(), 'src status --x');
  });
});
