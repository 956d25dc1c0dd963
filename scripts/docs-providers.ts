/** `npm run docs:providers`: rewrites README.md's DNS provider table from the provider descriptors. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withProviderTable } from '../src/drivers/provider-table.ts';

const file = join(import.meta.dirname, '..', 'README.md');
const before = await readFile(file, 'utf8');
const after = withProviderTable(before);
if (after === before) console.log('README.md: provider table up to date');
else {
  await writeFile(file, after);
  console.log('README.md: provider table rewritten');
}
