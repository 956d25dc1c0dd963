import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { SiteFile } from './web-server-setup.ts';

/** Every regular file under the site directory, by URL path (`/index.html`), sorted (the bytes every mirror serves). */
export async function readSiteFiles(dir: string): Promise<SiteFile[]> {
  const out: SiteFile[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push({ path: '/' + relative(dir, p).split(sep).join('/'), content: await readFile(p) });
    }
  };
  await walk(dir);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
