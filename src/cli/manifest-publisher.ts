import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { GuardEvent } from '../delegation/delegation-guard.ts';
import { recordGuardEvent } from '../delegation/delegation-record.ts';
import type { AuditEvent } from '../domain/audit.ts';
import { zonesOf, type FleetSpec } from '../domain/fleet-spec.ts';
import { manifestDeployFiles, type DeployFile } from '../manifest/manifest-files.ts';
import { parsePrivateKey } from '../manifest/manifest-signing.ts';
import { manifestToPublish } from '../manifest/publish-manifest.ts';
import { updateState, type StateStore } from '../state/state-store.ts';

export interface ManifestPublisher {
  /** Publishes the manifest for the standing now (the first start publishes sequence 1). */
  start(): Promise<void>;
  /** Records a guard event (pruned providers, lost domains) in the state store; republishes when a domain is lost or back. */
  onEvent(e: GuardEvent): Promise<void>;
  /** The served document now, if any. */
  current(): string | undefined;
  /** Files every mirror must serve next to the site (for a deploy step). */
  deployFiles(): DeployFile[];
}

export interface ManifestPublisherOptions {
  spec: FleetSpec;
  store: StateStore;
  env: Record<string, string | undefined>;
  audit: (e: Omit<AuditEvent, 'at'>) => Promise<unknown>;
  /** Mirrors this process serves (local / demo site servers) get each new document at once. */
  serve?: (json: string) => void | Promise<void>;
  /** A web root to write `.well-known/flotilla.json` into (file state: `<state dir>/publish`), for a web server or a deploy step. */
  publishDir?: string;
  now?: () => number;
}

/**
 * The daemon's thin I/O shell around the pure parts: recordGuardEvent (what the guard did and saw, persisted so
 * `pulumi up` and a restart agree with it), manifestToPublish (next sequence, signed) and manifestDeployFiles.
 * Never throws from onEvent: a failure is audited and the next event retries.
 */
export function createManifestPublisher(o: ManifestPublisherOptions): ManifestPublisher {
  const now = o.now ?? Date.now;
  const keyEnv = o.spec.delegation?.manifestKeyEnv ?? 'FLOTILLA_MANIFEST_KEY';
  let served: string | undefined;
  let warnedNoKey = false;

  const publish = async () => {
    const text = o.env[keyEnv];
    if (!text) {
      if (!warnedNoKey) await o.audit({ kind: 'error', message: `the site manifest is not published: ${keyEnv} is not set (make a key with \`flotilla manifest key --generate\`)` });
      warnedNoKey = true;
      return;
    }
    const key = parsePrivateKey(text, keyEnv);
    let out: ReturnType<typeof manifestToPublish> | undefined;
    const saved = await updateState(o.store, (s) => {
      const lost = s.delegation?.lost ?? {};
      const standing = zonesOf(o.spec).map((domain) => (lost[domain] ? { domain, lost: lost[domain] } : { domain }));
      out = manifestToPublish({ previousJson: s.manifest?.json, previousSequence: s.manifest?.sequence, site: o.spec.site.name, standing, key, now: now() });
      if (out.changed) s.manifest = { sequence: out.signed.manifest.sequence, publishedAt: now(), json: out.json };
    });
    served = saved.manifest?.json;
    if (!out || !served) return;
    await o.serve?.(served);
    if (o.publishDir) {
      for (const f of manifestDeployFiles(served)) {
        const file = join(o.publishDir, f.path);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(`${file}.tmp`, f.content);
        await rename(`${file}.tmp`, file);
      }
    }
    // audited once it is served and on disk: "published" must be true when a reader sees it
    if (out.changed) {
      const m = out.signed.manifest;
      await o.audit({ kind: 'manifest', message: `published the signed manifest, sequence ${m.sequence}: live ${m.live.join(', ') || 'none'}${m.lost.length ? `; lost ${m.lost.map((l) => l.domain).join(', ')}` : ''}`, data: { sequence: m.sequence, live: m.live, lost: m.lost.map((l) => l.domain), keyId: out.signed.keyId } });
    }
  };

  const guarded = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      await o.audit({ kind: 'error', message: `${what}: ${(e as Error).message}` }).catch(() => undefined);
    }
  };

  return {
    start: () => guarded('publishing the site manifest', publish),
    async onEvent(e) {
      let changedLost = false;
      await guarded(`recording the delegation event (${e.kind} ${e.zone})`, async () => {
        await updateState(o.store, (s) => {
          const before = s.delegation;
          const next = recordGuardEvent(before, e, now());
          if (next !== before && before !== undefined) changedLost = Object.keys(next.lost).sort().join(',') !== Object.keys(before.lost).sort().join(',');
          else if (next !== before) changedLost = Object.keys(next.lost).length > 0;
          s.delegation = next;
        });
      });
      if (changedLost) await guarded('publishing the site manifest', publish);
    },
    current: () => served,
    deployFiles: () => manifestDeployFiles(served),
  };
}
