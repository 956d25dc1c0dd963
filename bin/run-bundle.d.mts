/** Whether this Node can run the bundle (see run-bundle.mjs). */
export function canRunBundle(): boolean;
/** The cache key (command name) for the arguments after `node flotilla`; undefined when none can be one. */
export function cacheKey(args: string[]): string | undefined;
/** Compiles the bundle with the code cache for the command `args` name (see run-bundle.mjs). */
export function compileBundle(file: string, args: string[]): { cacheUsed: boolean; run(): Record<string, unknown>; saveCache(): void };
