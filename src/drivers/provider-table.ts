import type { DriverCapabilities } from './dns-driver.ts';
import type { ProviderDescriptor } from './provider-descriptor.ts';
import { DNS_PROVIDERS } from './registry.ts';

/** Markers around the generated table and settings list in README.md (`npm run docs:providers` rewrites what is between them). */
export const TABLE_BEGIN = '<!-- provider-table:begin (generated from src/drivers/*/…-provider.ts by `npm run docs:providers`) -->';
export const TABLE_END = '<!-- provider-table:end -->';

const n = (x: number) => x.toLocaleString('en-US');

function budget(b: DriverCapabilities['writeBudget']): string {
  if (!Number.isFinite(b.requests)) return 'none';
  const per = b.perMs === 1000 ? 's' : b.perMs % 3_600_000 === 0 ? (b.perMs === 3_600_000 ? 'h' : `${b.perMs / 3_600_000} h`) : `${b.perMs / 60_000} min`;
  return `${n(b.requests)} / ${per}`;
}

function row(d: ProviderDescriptor): string[] {
  const c = d.capabilities;
  return [
    `\`${d.kind}\``,
    d.docs.writes,
    c.granularity,
    d.docs.atomicBatch ?? (c.atomicBatch ? 'yes' : 'no'),
    d.docs.batch ?? n(c.maxBatch),
    d.docs.minTtl ?? String(c.minTtl),
    c.types.join(' '),
    budget(c.writeBudget),
    d.zones === 'pulumi' ? 'Pulumi' : 'you',
    d.docs.provenAgainst,
  ];
}

/** The README's DNS provider table, from the descriptors (one row per kind, in the registry's order). Pure. */
export function renderProviderTable(): string {
  const head = ['kind', 'how it writes', 'granularity', 'atomic batch', 'batch', 'min TTL', 'record types', 'write budget', 'zones created by', 'proven against'];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), `|${head.map(() => '---').join('|')}|`, ...Object.values(DNS_PROVIDERS).map((d) => line(row(d)))].join('\n');
}

/** One line per kind: its settings keys, each with its `.describe()` hint or its default. Pure. */
export function renderProviderSettings(): string {
  return Object.values(DNS_PROVIDERS)
    .map((d) => {
      const shape = (d.settings as unknown as { shape: Record<string, { description?: string; _zod: { def: { type: string; defaultValue?: unknown } } }> }).shape;
      const keys = Object.entries(shape).map(([k, f]) => {
        const hint = f.description ?? (f._zod.def.type === 'default' ? String(f._zod.def.defaultValue) : undefined);
        return hint === undefined ? `\`${k}\`` : `\`${k}\` (${hint})`;
      });
      return `- \`${d.kind}\`: ${keys.join(', ')}.`;
    })
    .join('\n');
}

/** README text with the table between the markers replaced; throws when the markers are missing. */
export function withProviderTable(readme: string): string {
  const a = readme.indexOf(TABLE_BEGIN);
  const b = readme.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the markers ${TABLE_BEGIN} … ${TABLE_END}`);
  return `${readme.slice(0, a + TABLE_BEGIN.length)}\n${renderProviderTable()}\n\nSettings (\`dnsProviders[i].settings\`):\n\n${renderProviderSettings()}\n${readme.slice(b)}`;
}
