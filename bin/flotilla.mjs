#!/usr/bin/env node
// Runs the compiled CLI in dist/ (`npm run build`; `npm ci` runs it through `prepare`): the esbuild bundle in
// dist/bundle/ (fastest start), else the module-by-module compile in dist/cli/. When what it would run is missing or
// older than a file under src/ (a developer edited the sources, or installed with --ignore-scripts), it runs the
// sources through tsx instead: slower to start, never stale. FLOTILLA_FROM_SOURCE=1 asks for the sources.
// Either way the CLI runs in this very process (no child), so a signal sent to this pid reaches it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

// `flotilla daemon`: its heap settings (bin/daemon-heap.mjs), before anything else is loaded
if (process.argv[2] === 'daemon') await import('./daemon-heap.mjs');

const root = fileURLToPath(new URL('..', import.meta.url));
const builds = [`${root}dist/bundle/main.js`, `${root}dist/cli/main.js`];

/** Newest modification time under dir (files and folders: a deleted file changes its folder). */
function newestMtime(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** The first build in `builds` that exists, when no source is newer than it; else undefined. */
function currentBuild() {
  const compiled = builds.find((b) => existsSync(b));
  if (process.env.FLOTILLA_FROM_SOURCE === '1' || compiled === undefined) return undefined;
  // an install without the sources has nothing newer to run
  return !existsSync(`${root}src`) || newestMtime(`${root}src`) <= statSync(compiled).mtimeMs ? compiled : undefined;
}

// `flotilla plan | head` must not end in an EPIPE stack trace
for (const s of [process.stdout, process.stderr]) s.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw e; });
// The AWS SDK warns on every start that its 2027 releases will need Node 22: a note for maintainers (README),
// not for a responder reading `flotilla status` at 3 a.m. The SDK's own switch turns it off.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let entry = currentBuild();
if (entry === undefined) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    process.stderr.write('flotilla: dist/ is missing or older than src/, and tsx (which runs the sources) is not installed: run `npm ci` in the flotilla directory\n');
    process.exit(1);
  }
  if (process.stderr.isTTY) process.stderr.write('flotilla: running the sources through tsx (dist/ is missing or older than src/; `npm run build` makes start-up fast)\n');
  entry = `${root}src/cli/main.ts`;
}
const { main } = await import(pathToFileURL(entry).href);
const code = await main(process.argv);
// a command is done when main returns: watchers and keep-alive sockets left by a library must not keep it alive
// (stdout and stderr are synchronous for files, pipes and terminals on Linux, so nothing printed is lost)
process.exit(code);
