#!/usr/bin/env node
// Runs the compiled CLI in dist/ (`npm run build`; `npm ci` runs it through `prepare`): the esbuild bundle
// dist/bundle/main.cjs (help.cjs when no command is named) with a V8 code cache (bin/run-bundle.mjs, the fastest
// start), else the module-by-module compile
// in dist/cli/ (no esbuild at build time, or a Node 20 older than 20.19 that cannot run the bundle). When what it
// would run is missing or older than a source it was built from (a developer edited the sources, or installed with
// --ignore-scripts), it runs the sources through tsx instead: slower to start, never stale. FLOTILLA_FROM_SOURCE=1 asks
// for the sources. Either way the CLI runs in this very process (no child), so a signal sent to this pid reaches it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheKey, canRunBundle, compileBundle } from './run-bundle.mjs';

// `flotilla daemon`: its heap settings (bin/daemon-heap.mjs), before anything else is loaded
if (process.argv[2] === 'daemon') await import('./daemon-heap.mjs');

const root = fileURLToPath(new URL('..', import.meta.url));
// with no command named (`flotilla`, `--help`, `-V`), the bundle without the command modules: a tenth of the size
const bundle = `${root}dist/bundle/${cacheKey(process.argv.slice(2)) === 'help' && existsSync(`${root}dist/bundle/help.cjs`) ? 'help' : 'main'}.cjs`;
const modules = `${root}dist/cli/main.js`;

/** Newest modification time under dir (files and folders: a deleted file changes its folder). */
function newestMtime(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Whether `built` is at least as new as the sources: the files the build lists in `sourcesFile` (paths from the root;
 * the bundle's, ~230 stats), else every file and folder under src/. A listed source that is gone makes it stale; an
 * install without src/ has nothing newer to run.
 */
function current(built, sourcesFile) {
  if (!existsSync(`${root}src`)) return true;
  const builtAt = statSync(built).mtimeMs;
  let listed;
  try {
    listed = JSON.parse(readFileSync(sourcesFile, 'utf8'));
  } catch {
    return newestMtime(`${root}src`) <= builtAt;
  }
  return listed.every((p) => (statSync(root + p, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) <= builtAt);
}

// `flotilla plan | head` must not end in an EPIPE stack trace
for (const s of [process.stdout, process.stderr]) s.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw e; });
// The AWS SDK warns on every start that its 2027 releases will need Node 22: a note for maintainers (README),
// not for a responder reading `flotilla status` at 3 a.m. The SDK's own switch turns it off.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const fromSource = process.env.FLOTILLA_FROM_SOURCE === '1';
let main;
let compiled;
if (!fromSource && existsSync(bundle) && canRunBundle() && current(bundle, `${root}dist/bundle/sources.json`)) {
  compiled = compileBundle(bundle, process.argv.slice(2));
  ({ main } = compiled.run());
} else if (!fromSource && existsSync(modules) && current(modules)) {
  ({ main } = await import(pathToFileURL(modules).href));
} else {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    process.stderr.write('flotilla: dist/ is missing or older than src/, and tsx (which runs the sources) is not installed: run `npm ci` in the flotilla directory\n');
    process.exit(1);
  }
  if (process.stderr.isTTY) process.stderr.write('flotilla: running the sources through tsx (dist/ is missing or older than src/; `npm run build` makes start-up fast)\n');
  ({ main } = await import(pathToFileURL(`${root}src/cli/main.ts`).href));
}
const code = await main(process.argv);
compiled?.saveCache();
// a command is done when main returns: watchers and keep-alive sockets left by a library must not keep it alive
// (stdout and stderr are synchronous for files, pipes and terminals on Linux, so nothing printed is lost)
process.exit(code);
