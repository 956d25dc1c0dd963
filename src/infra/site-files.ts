import { readFile } from 'node:fs/promises';
import { listSiteFiles } from '../config/site-tree.ts';
import type { SiteFile } from './web-server-setup.ts';

/** Every file of the site by URL path (`/index.html`), sorted: the bytes every mirror serves (the same walk as the digest). */
export async function readSiteFiles(dir: string): Promise<SiteFile[]> {
  const out: SiteFile[] = [];
  for (const e of await listSiteFiles(dir)) out.push({ path: e.path, content: await readFile(e.file) });
  return out;
}
