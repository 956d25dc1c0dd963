import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { listSiteFiles, SITE_LIMITS } from './site-tree.ts';

export interface SiteDigest {
  /** sha256 over every file (sorted path, NUL, file sha256, LF): the site's identity. */
  digest: string;
  /** sha256 of each file by URL path (`/index.html`); `/` maps to index.html. */
  files: Record<string, string>;
}

/**
 * Digest of a site directory, over the files listSiteFiles admits (system directories, links out of the site and
 * sites over the limits are refused with a SiteTreeError). Throws the fs error when a file cannot be read (the loader
 * words both).
 */
export async function digestSite(dir: string, limits = SITE_LIMITS): Promise<SiteDigest> {
  const files: Record<string, string> = {};
  for (const e of await listSiteFiles(dir, limits)) files[e.path] = createHash('sha256').update(await readFile(e.file)).digest('hex');
  const all = createHash('sha256');
  for (const k of Object.keys(files).sort()) all.update(`${k}\0${files[k]}\n`);
  if (files['/index.html']) files['/'] = files['/index.html'];
  return { digest: all.digest('hex'), files };
}
