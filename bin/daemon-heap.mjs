// The daemon's V8 heap settings (issue #14: memory beside the site), set before anything is loaded: by
// bin/flotilla.mjs for `flotilla daemon`, and by the probes bench (`--import`) so it measures the same process.
// Only flags V8 reads while running can be set here (node cannot re-exec itself without a second process, and the
// semi-space maximum is fixed when the heap is made).
import { setFlagsFromString } from 'node:v8';

// Loading the modules and the stack would grow the young generation to 16 MiB that an idle daemon never uses again
// (~7 MiB of its RSS): it stays at its initial size while starting, and may grow once running (a large fleet's probe
// loop needs it: a 1 MiB young generation for good stalled the loop at 5,000 mirrors).
setFlagsFromString('--semi-space-growth-factor=1');
setTimeout(() => setFlagsFromString('--semi-space-growth-factor=2'), 5_000).unref();
