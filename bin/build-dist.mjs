#!/usr/bin/env node
// Compiles src/ to dist/ (tsconfig.build.json): `npm run build`, and `prepare`, so `npm ci` leaves a CLI that starts
// without compiling anything. Without TypeScript (an install with --omit=dev) it says so and builds nothing:
// bin/flotilla.mjs then runs the sources through tsx, as it does whenever dist/ is missing or older than src/.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  process.stderr.write('flotilla: TypeScript is not installed (--omit=dev?), so dist/ is not built; `flotilla` will run the sources through tsx\n');
  process.exit(0);
}
// a file deleted from src/ must not live on in dist/
rmSync(`${root}dist`, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
