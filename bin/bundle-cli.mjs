// Bundles the CLI (src/cli/main.ts) with esbuild into `outdir`/main.cjs, what bin/flotilla.mjs runs (bin/run-bundle.mjs),
// and help.cjs, the same without the command modules (what runs when no command is named):
// one CommonJS script, so V8 can keep its compiled code in a code cache (vm.Script cachedData; Node 20 has no compile
// cache for ES modules) and a start reads one file instead of resolving and compiling tens of chunks. Every module
// reached only through a dynamic import stays lazy (esbuild wraps it in an init function run at the import), and
// every package outside BUNDLED (SDKs, Pulumi, undici, etcd3...) stays external, loaded from node_modules where it is
// used: `require()` for a static import (Node >= 20.19 requires ES-only packages such as execa), `import()` for a
// dynamic one. Writes beside it:
// - meta.json, help-meta.json: esbuild's metafiles, which sources each holds (test/cli/start-up.test.ts reads them);
// - sources.json: the files under src/ they were built from, which bin/flotilla.mjs stats to tell a stale build.
// esbuild comes with tsx. Returns false when it is not installed.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Small pure-JavaScript packages every command loads: bundled (zod alone is ~95 modules); all others stay external. */
const BUNDLED = new Set(['zod', 'yaml', 'commander']);

const packageName = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

/**
 * zod's error messages in 48 languages (400 KB, a fifth of the bundle, read at every start) of which flotilla uses the
 * default, English (nothing calls z.config(z.locales.xx()) or reads z.locales): `z.locales` holds `en` only.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (a) => (/[\\/]node_modules[\\/]zod[\\/]/.test(a.importer) ? { path: join(dirname(a.importer), a.path), namespace: 'zod-locales' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (a) => ({ contents: `export { default as en } from ${JSON.stringify(join(dirname(a.path), 'en.js'))};\n`, loader: 'js', resolveDir: dirname(a.path) }));
  },
};

/**
 * For help.cjs: every module src/cli/commands/index.ts and main.ts import dynamically (the command modules, and zod
 * for a named command) becomes a module that throws. `flotilla`, `flotilla --help` and `-V` name no command, so main()
 * loads none of them, and the 150 KB script starts
 * without reading and deserialising the 1.5 MB one. bin/flotilla.mjs runs it only when no command is named.
 */
const noCommands = {
  name: 'no-commands',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (a) => (a.kind === 'dynamic-import' && /[\\/]src[\\/]cli[\\/](commands[\\/]index|main)\.ts$/.test(a.importer) ? { path: a.path, namespace: 'no-commands' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'no-commands' }, () => ({ contents: 'throw new Error("internal: dist/bundle/help.cjs holds no command module; bin/flotilla.mjs runs it only when no command is named");\n', loader: 'js' }));
  },
};

const externalPackages = {
  name: 'external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('node:') || !BUNDLED.has(packageName(a.path)) ? { path: a.path, external: true } : undefined));
  },
};

/**
 * Builds `outdir`/main.cjs (every command) and `outdir`/help.cjs (none: what `flotilla --help` runs). `outdir` must be
 * two folders below the package root, like src/cli/: package-version.ts and pulumi-main.ts find the root from
 * import.meta (here the bundle's own location), and the external packages resolve from its node_modules.
 */
export async function bundleCli({ root, outdir }) {
  let esbuildPath;
  try {
    esbuildPath = createRequire(join(root, 'package.json')).resolve('esbuild');
  } catch {
    return false;
  }
  const esbuild = await import(pathToFileURL(esbuildPath).href);
  // code caches made from an earlier bundle (bin/run-bundle.mjs): their hash would not match, but they take room
  rmSync(join(outdir, 'cache'), { recursive: true, force: true });
  const sources = new Set();
  for (const [name, plugins] of [['main', [zodEnglishOnly, externalPackages]], ['help', [noCommands, zodEnglishOnly, externalPackages]]]) {
    const outfile = join(outdir, `${name}.cjs`);
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: ['src/cli/main.ts'],
      outfile,
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'warning',
      // a CommonJS module has no import.meta: the bundle's own location stands in (bin/run-bundle.mjs passes __dirname)
      define: { 'import.meta.url': '__flotillaBundleUrl', 'import.meta.dirname': '__dirname' },
      banner: { js: "const __flotillaBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
      plugins,
    });
    const text = readFileSync(outfile, 'utf8');
    // a dynamic import() of an external package fails once the script runs from its code cache (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING): load it with require()
    const dynamic = text.split('\n').findIndex((l) => /(^|[^\w$.])import\(\s*["'`]/.test(l) && !/^\s*\/\//.test(l));
    if (dynamic >= 0) throw new Error(`${outfile}:${dynamic + 1}: a dynamic import() of an external package (${text.split('\n')[dynamic].trim()}): use createRequire(import.meta.url) instead, as src/state/etcd-cluster.ts does`);
    // comments may hold a non-ASCII character (an em dash): one of them makes V8 hold the whole 1.5 MB source as a
    // two-byte string, slower to decode and to scan at every start. Strings and regexes are escaped by esbuild already
    // (charset ascii), so what is left is comments, where an escape reads the same.
    // eslint-disable-next-line no-control-regex
    if (/[^\x00-\x7f]/.test(text)) writeFileSync(outfile, text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
    writeFileSync(join(outdir, name === 'main' ? 'meta.json' : `${name}-meta.json`), JSON.stringify(result.metafile));
    for (const o of Object.values(result.metafile.outputs)) for (const i of Object.keys(o.inputs)) if (i.startsWith('src/')) sources.add(i);
  }
  writeFileSync(join(outdir, 'sources.json'), JSON.stringify([...sources].sort()) + '\n');
  return true;
}
