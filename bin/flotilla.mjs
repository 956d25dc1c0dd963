#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader: no build step between a checkout and a working `flotilla`.
import { register } from 'tsx/esm/api';
register();
// `flotilla plan | head` must not end in an EPIPE stack trace
for (const s of [process.stdout, process.stderr]) s.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw e; });
// The AWS SDK warns on every start that its 2027 releases will need Node 22: a note for maintainers (README),
// not for a responder reading `flotilla status` at 3 a.m. The SDK's own switch turns it off.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv);
// a command is done when main returns: watchers and keep-alive sockets left by a library must not keep it alive
// (stdout and stderr are synchronous for files, pipes and terminals on Linux, so nothing printed is lost)
process.exit(code);
