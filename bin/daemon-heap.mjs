// The daemon's V8 settings (issue #14: memory beside the site), set before anything is loaded: by bin/flotilla.mjs
// for `flotilla daemon`, and by the probes bench (`--import`) so it measures the same process.
// Only flags V8 reads while running can be set here (node cannot re-exec itself without a second process, and the
// semi-space maximum is fixed when the heap is made).
import { setFlagsFromString } from 'node:v8';

// Loading the modules and the stack would grow the young generation to 16 MiB that an idle daemon never uses again
// (~7 MiB of its RSS): it stays at its initial size while starting, and may grow once running (a large fleet's probe
// loop needs it: a 1 MiB young generation for good stalled the loop at 5,000 mirrors).
setFlagsFromString('--semi-space-growth-factor=1');
setTimeout(() => setFlagsFromString('--semi-space-growth-factor=2'), 5_000).unref();

// undici parses HTTP with llhttp, a WebAssembly module. V8 compiles it at once with its baseline compiler (Liftoff)
// and then again with its optimising one (TurboFan) on a worker thread: ~36 MiB of compiler memory in that thread's
// malloc arena, a start-up peak of ~90 MiB (55 MiB without), and up to ~10 MiB of it still resident when idle
// (glibc keeps what it may reuse). Liftoff's code is what runs the probes' parser (bench/README.md, probes: the CPU
// per probe with and without this, 2026-12-02).
setFlagsFromString('--liftoff-only');
