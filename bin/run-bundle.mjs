// Loads the CLI bundle (dist/bundle/main.cjs, bin/bundle-cli.mjs) as one vm.Script with a V8 code cache: a start that
// finds the cache skips compiling the functions the same command compiled before (a third of `flotilla status`'s CPU).
// Contract of the cache, dist/bundle/cache/<command>.<sha256 of the bundle>.v8:
// - written once per command and bundle, after the command returned, when there was none or V8 rejected it (another
//   Node version or V8 flags); to a temp file renamed into place, so a reader sees a whole file or none;
// - used only for the very bundle text it was made from: V8 checks only the source's length, the name holds its hash;
// - beside the bundle, never in a shared folder: cached code runs as this user, so only who can write the bundle may
//   write it. A folder this user cannot write means no cache, not an error. `npm run build` removes it with dist/.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

/** Whether this Node can run the bundle: it `require()`s ES-only packages and `import()`s from a vm.Script. */
export const canRunBundle = () => process.features.require_module === true && vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER !== undefined;

/** The command `args` (after `node flotilla`) names, as src/cli/commands/index.ts's commandNamed reads it: the cache key. */
export function cacheKey(args) {
  const operands = args.filter((a) => !a.startsWith('-'));
  const name = operands[0] === 'help' ? operands[1] : operands[0];
  return name === undefined ? 'help' : /^[a-z][a-z-]{0,30}$/.test(name) ? name : undefined;
}

/**
 * Compiles the bundle at `file` (with the cache for the command `args` name, when there is one). Nothing of the bundle
 * runs yet: `run()` evaluates it and returns its exports (`main`, `commandNamed`); `saveCache()` then writes the cache
 * if this start had none that V8 took, for a command the bundle knows.
 */
export function compileBundle(file, args) {
  const source = readFileSync(file);
  const key = cacheKey(args);
  const cacheFile = key && join(dirname(file), 'cache', `${key}.${createHash('sha256').update(source).digest('hex').slice(0, 32)}.v8`);
  let cachedData;
  try {
    if (cacheFile) cachedData = readFileSync(cacheFile);
  } catch {
    // none yet
  }
  // the function Node wraps a CommonJS module in, on the same line so line numbers stay the bundle's
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source.toString()}\n})`, {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const cacheUsed = cachedData !== undefined && !script.cachedDataRejected;
  let exports;
  return {
    cacheUsed,
    run() {
      const module = { exports: {} };
      script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
      exports = module.exports;
      return exports;
    },
    saveCache() {
      if (cacheUsed || !cacheFile || (key !== 'help' && exports?.commandNamed?.(args) === undefined)) return;
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        mkdirSync(dirname(cacheFile), { recursive: true });
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        try {
          rmSync(tmp, { force: true });
        } catch {
          // a folder this user cannot write: no cache
        }
      }
    },
  };
}
