/** The folder layering of DESIGN.md holds for every import of every src file (run by `npm test` and so by CI). */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXCEPTIONS, FILE_RULES, importEdges, layeringViolations, type ImportEdge } from './support/layering.ts';
import { REPO } from './support/run-cli.ts';

describe('layering (DESIGN.md "Layout")', () => {
  it('every import of src/ follows an allowed arrow; only src/infra imports @pulumi/*; only src/drivers imports DNS provider SDKs', (t) => {
    const edges = importEdges(join(REPO, 'src'));
    assert.ok(edges.length > 100, `read ${edges.length} imports`);
    const v = layeringViolations(edges);
    assert.deepEqual(v.map((x) => `${x.file}: import '${x.specifier}': ${x.rule}`), []);
    for (const x of EXCEPTIONS) {
      const used = edges.filter((e) => e.fromFolder === x.from && e.toFolder === x.to).map((e) => e.file);
      t.diagnostic(used.length ? `tolerated src/${x.from} -> src/${x.to} (${[...new Set(used)].join(', ')}): ${x.why}` : `exception src/${x.from} -> src/${x.to} is no longer used: remove it from test/support/layering.ts`);
    }
  });

  it('reports a forbidden arrow with the file, the import and the rule', () => {
    const edge = (file: string, specifier: string, fromFolder: string, to: { toFolder?: string; toFile?: string; pkg?: string }): ImportEdge => ({ file, specifier, fromFolder, ...to });
    const v = layeringViolations([
      edge('src/planner/x.ts', '../controller/controller.ts', 'planner', { toFolder: 'controller' }),
      edge('src/controller/y.ts', '@pulumi/pulumi', 'controller', { pkg: '@pulumi/pulumi' }),
      edge('src/cli/z.ts', 'cloudflare', 'cli', { pkg: 'cloudflare' }),
      edge('src/newfolder/w.ts', '../domain/records.ts', 'newfolder', { toFolder: 'domain' }),
      edge('src/server/ok.ts', '../controller/controller-view.ts', 'server', { toFolder: 'controller', toFile: 'controller/controller-view.ts' }),
      edge('src/server/bad.ts', '../controller/controller.ts', 'server', { toFolder: 'controller', toFile: 'controller/controller.ts' }),
      edge('src/cli/ok.ts', '../controller/controller.ts', 'cli', { toFolder: 'controller', toFile: 'controller/controller.ts' }),
      edge('src/drivers/ok.ts', 'cloudflare', 'drivers', { pkg: 'cloudflare' }),
    ]);
    assert.deepEqual(v, [
      { file: 'src/planner/x.ts', specifier: '../controller/controller.ts', rule: 'src/planner/ may import only src/domain/ (DESIGN.md "Layout"), not src/controller/' },
      { file: 'src/controller/y.ts', specifier: '@pulumi/pulumi', rule: 'only src/infra imports @pulumi/*' },
      { file: 'src/cli/z.ts', specifier: 'cloudflare', rule: 'only src/drivers talks to DNS APIs (provider SDKs)' },
      { file: 'src/newfolder/w.ts', specifier: '../domain/records.ts', rule: 'src/newfolder/ is not in the layering table (test/support/layering.ts): add it with the imports DESIGN.md allows it' },
      { file: 'src/server/bad.ts', specifier: '../controller/controller.ts', rule: FILE_RULES[0].rule },
    ]);
  });

  it('reads static, type-only, re-exported and dynamic imports', () => {
    const src = join(mkdtempSync(join(tmpdir(), 'flotilla-layering-')), 'src');
    mkdirSync(join(src, 'planner'), { recursive: true });
    writeFileSync(join(src, 'planner', 'p.ts'), [
      "import type { A } from '../domain/a.ts';",
      "import {\n  b,\n} from '../state/b.ts';",
      "export { c } from '../probes/c.ts';",
      "const d = await import('../controller/d.ts');",
      "import '@pulumi/pulumi';",
    ].join('\n'));
    const e = importEdges(src);
    assert.deepEqual(e.map((x) => [x.file, x.toFolder ?? `pkg ${x.pkg}`]), [
      [join('src', 'planner', 'p.ts'), 'domain'],
      [join('src', 'planner', 'p.ts'), 'state'],
      [join('src', 'planner', 'p.ts'), 'probes'],
      [join('src', 'planner', 'p.ts'), 'controller'],
      [join('src', 'planner', 'p.ts'), 'pkg @pulumi/pulumi'],
    ]);
    assert.equal(layeringViolations(e).length, 4);
  });
});
