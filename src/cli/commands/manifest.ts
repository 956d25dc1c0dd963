import type { Command } from 'commander';
import { UsageError } from '../../domain/errors.ts';
import { generatePrivateKeyText, keyIdOf, parsePrivateKey, parsePublicKey, publicKeyText, verifyManifest } from '../../manifest/manifest-signing.ts';
import { makeOut } from '../output.ts';

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

export function registerManifest(program: Command): void {
  const manifest = program
    .command('manifest')
    .description('The signed site manifest (/.well-known/flotilla.json): live and lost domains, for readers who pinned the key.');

  manifest
    .command('key')
    .description('Print the public key readers pin (from the private key in --key-env), or make a new private key.')
    .option('--key-env <NAME>', 'environment variable holding the Ed25519 private key', 'FLOTILLA_MANIFEST_KEY')
    .option('--generate', 'print a new private key (base64 seed) to store in that variable, and its public key')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  flotilla manifest key --generate\n  FLOTILLA_MANIFEST_KEY=... flotilla manifest key\n')
    .action((o: { keyEnv: string; generate?: boolean; json?: boolean }) => {
      const out = makeOut(!!o.json);
      if (!ENV_NAME.test(o.keyEnv)) throw new UsageError('--key-env must name an environment variable (A-Z, 0-9, _), not hold the key itself');
      let text: string;
      if (o.generate) text = generatePrivateKeyText();
      else {
        const v = process.env[o.keyEnv];
        if (!v) throw new UsageError(`${o.keyEnv} is not set: put the private key there (make one with \`flotilla manifest key --generate\`)`);
        text = v;
      }
      const key = parsePrivateKey(text, o.keyEnv);
      const pub = publicKeyText(key);
      out.data(o.generate ? { privateKey: text, publicKey: pub, keyId: keyIdOf(key) } : { publicKey: pub, keyId: keyIdOf(key) });
      if (o.generate) {
        out.log(`private key (keep secret; store it in ${o.keyEnv}): ${text}`);
      }
      out.log(`public key (pin this): ${pub}`);
      out.log(`key id: ${keyIdOf(key)}`);
    });

  manifest
    .command('verify <url>')
    .description('Fetch a manifest and check its signature against a pinned public key; print the live domains.')
    .requiredOption('--key <KEY>', 'the pinned public key (base64, as `flotilla manifest key` prints)')
    .option('--timeout <ms>', 'give up after this many milliseconds', '5000')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExit 0 when the signature is good, 1 when it is not or the manifest cannot be fetched.\n\nExample:\n  flotilla manifest verify https://example.org/.well-known/flotilla.json --key 3q2+7w...\n')
    .action(async (url: string, o: { key: string; timeout: string; json?: boolean }) => {
      const out = makeOut(!!o.json);
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        throw new UsageError(`not a URL: ${JSON.stringify(url)}`);
      }
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new UsageError('the manifest URL must be http(s)');
      const timeout = Number(o.timeout);
      if (!Number.isInteger(timeout) || timeout < 1 || timeout > 600_000) throw new UsageError('--timeout must be a whole number of milliseconds (1..600000)');
      const pub = parsePublicKey(o.key);
      let doc: unknown;
      try {
        const res = await fetch(u, { redirect: 'follow', signal: AbortSignal.timeout(timeout) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const text = await res.text();
        if (text.length > 1_000_000) throw new Error('larger than 1 MB');
        doc = JSON.parse(text);
      } catch (e) {
        out.data({ ok: false, url, reason: (e as Error).message });
        out.err(`flotilla: cannot read the manifest at ${url}: ${(e as Error).message}`);
        process.exitCode = 1;
        return;
      }
      const r = verifyManifest(doc, pub);
      out.data({ url, ...r });
      if (!r.ok) {
        out.err(`flotilla: ${url}: NOT trusted: ${r.reason}`);
        process.exitCode = 1;
        return;
      }
      const m = r.manifest;
      out.log(`${url}: signature good (site ${m.site}, sequence ${m.sequence}, issued ${m.issuedAt})`);
      out.log(`live: ${m.live.join(', ') || 'none'}`);
      for (const l of m.lost) out.log(`lost: ${l.domain} since ${l.since} (${l.reason})`);
      process.exitCode = 0;
    });
}
