import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface SiteDigest {
  /** sha256 over every file (sorted path, NUL, file sha256, LF): the site's identity. */
  digest: string;
  /** sha256 of each file by URL path (`/index.html`); `/` maps to index.html. */
  files: Record<string, string>;
}

/** Digest of a site directory. Throws the fs error when the directory is missing (the loader words it). */
export async function digestSite(dir: string): Promise<SiteDigest> {
  const files: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) files['/' + relative(dir, p).split(sep).join('/')] = createHash('sha256').update(await readFile(p)).digest('hex');
    }
  };
  await walk(dir);
  const all = createHash('sha256');
  for (const k of Object.keys(files).sort()) all.update(`${k}\0${files[k]}\n`);
  if (files['/index.html']) files['/'] = files['/index.html'];
  return { digest: all.digest('hex'), files };
}
