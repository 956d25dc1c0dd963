// Bundles the CLI (src/cli/main.ts) with esbuild into `outdir`, what bin/flotilla.mjs runs: tens of files instead of
// hundreds of small modules to resolve and compile at every start. Every dynamic import stays a chunk of its own,
// loaded only when reached (splitting), and every package outside BUNDLED (SDKs, Pulumi, undici, etcd3...) stays
// external, imported from node_modules where it is used. `outdir`/meta.json is esbuild's metafile: which sources each
// chunk holds (test/cli/start-up.test.ts reads it). esbuild comes with tsx. Returns false when it is not installed.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Small pure-JavaScript packages every command loads: bundled (zod alone is ~95 modules); all others stay external. */
const BUNDLED = new Set(['zod', 'yaml', 'commander']);

const packageName = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

/**
 * `outdir` must be two folders below the package root, like src/cli/: package-version.ts and pulumi-main.ts find
 * the root from import.meta, and the external packages resolve from its node_modules.
 */
export async function bundleCli({ root, outdir }) {
  let esbuildPath;
  try {
    esbuildPath = createRequire(join(root, 'package.json')).resolve('esbuild');
  } catch {
    return false;
  }
  const esbuild = await import(pathToFileURL(esbuildPath).href);
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['src/cli/main.ts'],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    // bundled CommonJS (commander, yaml) calls require() for node builtins: an ES module has none of its own
    banner: { js: "import { createRequire as __flotillaRequire } from 'node:module'; const require = __flotillaRequire(import.meta.url);" },
    plugins: [{
      name: 'external-packages',
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('node:') || !BUNDLED.has(packageName(a.path)) ? { path: a.path, external: true } : undefined));
      },
    }],
  });
  writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  return true;
}
