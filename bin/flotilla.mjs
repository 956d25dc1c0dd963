#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader: no build step between a checkout and a working `flotilla`.
import { register } from 'tsx/esm/api';
register();
// `flotilla plan | head` must not end in an EPIPE stack trace
for (const s of [process.stdout, process.stderr]) s.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw e; });
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv);
// a command is done when main returns: watchers and keep-alive sockets left by a library must not keep it alive
// (stdout and stderr are synchronous for files, pipes and terminals on Linux, so nothing printed is lost)
process.exit(code);
