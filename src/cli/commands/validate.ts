import type { Command } from 'commander';
import { DELEGATED_NAMESERVERS } from '../../domain/fleet-spec.ts';
import { providerCapabilities } from '../../drivers/registry.ts';
import { REGISTRARS } from '../../registrars/registrar-descriptors.ts';
import { desiredRecords } from '../../planner/desired-records.ts';
import { shapeForProvider } from '../../planner/shape-for-provider.ts';
import { makeOut } from '../output.ts';
import { specFrom, stackOptions, type StackOpts } from '../common.ts';

export function registerValidate(program: Command): void {
  stackOptions(program.command('validate'))
    .description('Check a stack file: every problem at once, with the path in the file. Exit 2 when it is wrong.')
    .addHelpText('after', '\nExamples:\n  flotilla validate --stack example\n  flotilla validate --config stacks/Pulumi.local.yaml\n')
    .action(async (o: StackOpts) => {
      const out = makeOut(!!o.json);
      const spec = await specFrom(o);
      // what each provider will really hold (the records of every mirror serving): TTL floors, unsupported types
      const zones = Object.values(desiredRecords(spec, {}, [], { now: Date.now() }).zones).flat();
      const notes = [...new Set(spec.dnsProviders.flatMap((p) => shapeForProvider(zones, providerCapabilities(p.kind), p.name).notes))];
      // what each registrar will list: delegatedNameservers of every provider, within the registrar's limit (checked by the schema)
      const perProvider = spec.dnsProviders.map((p) => ({ provider: p.name, count: p.delegatedNameservers ?? DELEGATED_NAMESERVERS }));
      const total = perProvider.reduce((n, p) => n + p.count, 0);
      const delegation = spec.registrars.map((r) => ({ registrar: r.name, kind: r.kind, domain: r.domain, nameservers: total, max: REGISTRARS[r.kind].maxNameservers, perProvider }));
      out.data({ ok: true, file: spec.file, stack: spec.stack, mirrors: spec.mirrors.length, dnsProviders: spec.dnsProviders.length, digest: spec.site.digest, notes, delegation });
      out.log(`${spec.file}: ok`);
      out.log(`  ${spec.mirrors.length} mirror(s): ${spec.mirrors.map((m) => `${m.name} (${m.provider})`).join(', ')}`);
      out.log(`  ${spec.dnsProviders.length} DNS provider(s): ${spec.dnsProviders.map((p) => `${p.name} (${p.kind})`).join(', ')}`);
      for (const d of delegation)
        out.log(`  registrar ${d.registrar} (${d.kind}): ${d.nameservers} of at most ${d.max} nameservers for ${d.domain} (${d.perProvider.map((p) => `${p.provider} ${p.count}`).join(', ')}); every provider's apex NS lists the same`);
      out.log('  serving A/AAAA records: written by the controller (daemon, apply), never by Pulumi (it writes zones, apex NS, ownership markers)');
      for (const n of notes) out.log(`  note: ${n}`);
      out.log(`  site ${spec.site.name}: ${Object.keys(spec.site.files).filter((f) => f !== '/').length} file(s), digest ${spec.site.digest.slice(0, 16)}…`);
    });
}
