#!/usr/bin/env node
// Builds dist/: `npm run build`, and `prepare`, so `npm ci` leaves a CLI that starts without compiling anything.
// 1. tsc (tsconfig.build.json) compiles src/ to dist/ module by module (the bench's daemon children run those).
// 2. esbuild bundles the CLI into dist/bundle/ (bundle-cli.mjs): what bin/flotilla.mjs runs, the fastest start.
// Without TypeScript (an install with --omit=dev) step 1 is skipped; without esbuild (tsx brings it) step 2 is: the
// bin then runs what was built, or the sources through tsx, as it does whenever dist/ is missing or older than src/.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bundleCli } from './bundle-cli.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// a file deleted from src/ must not live on in dist/
rmSync(`${root}dist`, { recursive: true, force: true });

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  process.stderr.write('flotilla: TypeScript is not installed (--omit=dev?), so dist/cli/ is not compiled (the bundle in dist/bundle/ still is)\n');
}
if (tsc) {
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (!(await bundleCli({ root, outdir: `${root}dist/bundle` }))) {
  process.stderr.write('flotilla: esbuild (which tsx brings) is not installed, so dist/bundle/ is not built; `flotilla` runs dist/cli/ or the sources through tsx\n');
}
