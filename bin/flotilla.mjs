#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader: no build step between a checkout and a working `flotilla`.
import { register } from 'tsx/esm/api';
register();
// `flotilla plan | head` must not end in an EPIPE stack trace
for (const s of [process.stdout, process.stderr]) s.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw e; });
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
