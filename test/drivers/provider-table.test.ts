import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DNS_PROVIDER_KINDS } from '../../src/domain/fleet-spec.ts';
import { renderProviderSettings, renderProviderTable, withProviderTable } from '../../src/drivers/provider-table.ts';
import { DNS_PROVIDERS } from '../../src/drivers/registry.ts';

const README = join(import.meta.dirname, '..', '..', 'README.md');

describe('README provider table', () => {
  it('is what the descriptors say (run `npm run docs:providers` after changing a provider)', async () => {
    const readme = await readFile(README, 'utf8');
    assert.equal(readme, withProviderTable(readme), 'README.md provider table is out of date: run `npm run docs:providers`');
  });

  it('has one row per provider kind, with its declared TTL floor and record types', () => {
    const rows = renderProviderTable().split('\n').slice(2);
    assert.equal(rows.length, DNS_PROVIDER_KINDS.length);
    for (const kind of DNS_PROVIDER_KINDS) {
      const row = rows.find((r) => r.startsWith(`| \`${kind}\` |`));
      assert.ok(row, kind);
      const cells = row!.split(' | ');
      const caps = DNS_PROVIDERS[kind].capabilities;
      assert.ok(cells[5].startsWith(String(caps.minTtl)), `${kind}: min TTL cell ${cells[5]}`);
      assert.equal(cells[6], caps.types.join(' '), kind);
    }
  });

  it('lists every settings key of every kind, with its default', () => {
    const lines = renderProviderSettings().split('\n');
    for (const kind of DNS_PROVIDER_KINDS) {
      const line = lines.find((l) => l.startsWith(`- \`${kind}\`: `));
      assert.ok(line, kind);
      const shape = (DNS_PROVIDERS[kind].settings as unknown as { shape: Record<string, unknown> }).shape;
      for (const key of Object.keys(shape)) assert.ok(line!.includes(`\`${key}\``), `${kind}: ${key}`);
    }
    assert.ok(lines.some((l) => l.includes('`tsigAlgorithm` (hmac-sha256)')), 'a default is shown');
  });
});
