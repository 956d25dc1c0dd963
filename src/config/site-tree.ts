import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve, sep } from 'node:path';

/** How much a site may hold: every CLI command digests it, so a wrong `contentDir` must fail fast, not read a disk. */
export const SITE_LIMITS = { maxFiles: 10_000, maxBytes: 256 * 1024 * 1024 };

/** One regular file of the site: its URL path (`/index.html`) and where its bytes are read from. */
export interface SiteEntry {
  path: string;
  /** The file to read (a symlink inside the site is read through its target). */
  file: string;
  size: number;
}

/**
 * Why a site directory cannot be read as a site. `path` is the file or link at fault, when one is. The loader words it
 * as a ConfigError at `flotilla:fleet.site.contentDir` (exit 2).
 */
export class SiteTreeError extends Error {
  constructor(message: string, readonly path?: string) {
    super(message);
    this.name = 'SiteTreeError';
  }
}

/** Directories that are never a site (the whole machine, system trees, a home directory itself). */
export function systemDirectoryReason(dir: string, home = homedir()): string | undefined {
  const d = resolve(dir);
  const roots = ['/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/media', '/mnt', '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/usr/local', '/var', '/var/tmp'];
  if (roots.includes(d)) return `${d} is a system directory`;
  if (d === resolve(home)) return `${d} is a home directory`;
  for (const v of ['/proc', '/sys', '/dev', '/etc', '/boot', '/run']) if (d.startsWith(`${v}/`)) return `${d} is inside ${v}`;
  return undefined;
}

/**
 * Every regular file under `dir`, sorted by URL path, within `limits`. Contract:
 * - a system directory (systemDirectoryReason) is refused before anything is read;
 * - symbolic links are followed only when their target lies inside `dir` (a link to a directory is walked as that
 *   directory; a loop is refused); a link pointing outside `dir`, or nowhere, is refused with an error naming it;
 * - sockets, FIFOs and devices are skipped (reading one could block);
 * - more than `maxFiles` files or `maxBytes` bytes in all stops the walk with an error, before reading any file.
 * Errors: SiteTreeError for all of the above; fs errors (EACCES, ENOENT) as thrown, with their `path`.
 */
export async function listSiteFiles(dir: string, limits = SITE_LIMITS): Promise<SiteEntry[]> {
  const sys = systemDirectoryReason(dir);
  if (sys) throw new SiteTreeError(`${sys}, not a site: name the directory that holds only the site's files`);
  const root = await realpath(dir);
  const sysReal = systemDirectoryReason(root);
  if (sysReal) throw new SiteTreeError(`${dir} resolves to ${root}; ${sysReal}, not a site`);
  const out: SiteEntry[] = [];
  let bytes = 0;
  const inside = (p: string) => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
  const add = (urlPath: string, file: string, size: number) => {
    out.push({ path: urlPath, file, size });
    bytes += size;
    if (out.length > limits.maxFiles) throw new SiteTreeError(`more than ${limits.maxFiles} files under ${dir}: is this the site's directory? (a site may hold at most ${limits.maxFiles} files)`);
    if (bytes > limits.maxBytes) throw new SiteTreeError(`more than ${formatBytes(limits.maxBytes)} under ${dir} (reached at ${file}): is this the site's directory? (a site may hold at most ${formatBytes(limits.maxBytes)})`);
  };
  // `real` is the directory's real path, `shown` the path under `dir` its files get; `ancestors` catches link loops
  const walk = async (real: string, shown: string, ancestors: readonly string[]): Promise<void> => {
    const entries = (await readdir(real, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = join(real, e.name);
      const urlPath = `${shown}/${e.name}`;
      if (e.isDirectory()) await walk(p, urlPath, [...ancestors, p]);
      else if (e.isFile()) add(urlPath, p, (await lstat(p)).size);
      else if (e.isSymbolicLink()) {
        const link = join(dir, urlPath);
        let target: string;
        try {
          target = await realpath(p);
        } catch {
          throw new SiteTreeError(`the symbolic link ${link} points nowhere (a dangling link): remove it or point it at a file inside ${dir}`, link);
        }
        if (!inside(target)) throw new SiteTreeError(`the symbolic link ${link} points outside the site, to ${target}: links are followed only inside ${dir}; copy the file in instead`, link);
        const st = await stat(target);
        if (st.isDirectory()) {
          if (target === root || ancestors.includes(target)) throw new SiteTreeError(`the symbolic link ${link} points back to ${target}, a directory it is in (a loop)`, link);
          await walk(target, urlPath, [...ancestors, target]);
        } else if (st.isFile()) add(urlPath, target, st.size);
      }
    }
  };
  await walk(root, '', [root]);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MiB` : `${n} bytes`;
}
