/** Bundles src/cli/main.ts into `outdir` (see bundle-cli.mjs); false when esbuild is not installed. */
export function bundleCli(o: { root: string; outdir: string }): Promise<boolean>;
