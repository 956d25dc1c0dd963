import { X509Certificate } from 'node:crypto';
import { Agent } from 'node:https';
import * as acme from 'acme-client';
import type { FleetSpec } from '../domain/fleet-spec.ts';
import { certNames } from './cert-plan.ts';
import { CertError } from './cert-error.ts';
import type { CertStore } from './cert-store.ts';
import { publishChallenges, removeChallenges, type ChallengeRails } from './dns01-challenge.ts';

export interface IssueOptions extends ChallengeRails {
  spec: Pick<FleetSpec, 'domain' | 'alternateDomains'>;
  store: CertStore;
  directoryUrl: string;
  email?: string;
  /** PEM of CAs trusted for the ACME directory's own HTTPS (a test CA such as pebble's); default the system's. */
  directoryCa?: string;
  /** Progress lines (never carry key material). */
  log?: (line: string) => void;
}

export interface Issued {
  names: string[];
  notBefore: number;
  notAfter: number;
  serial: string;
  /** Challenge published → answered at every authoritative server of every provider (ms). */
  publishMs: number;
}

function knownAccount(client: acme.Client): boolean {
  try {
    return !!client.getAccountUrl();
  } catch {
    return false;
  }
}

/** The validity and serial of the first certificate of a PEM chain. */
export function certInfo(pem: string): { notBefore: number; notAfter: number; serial: string; names: string[] } {
  const x = new X509Certificate(pem);
  const names = (x.subjectAltName ?? '').split(/,\s*/).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
  return { notBefore: Date.parse(x.validFrom), notAfter: Date.parse(x.validTo), serial: x.serialNumber, names };
}

/**
 * One ACME order for the site's names over DNS-01: account (key from the secrets area, made once), order, challenge
 * TXT at every provider verified at every authoritative server, answer, wait for the CA, remove the TXT (always,
 * also after a failure), finalize with a fresh key, store key + chain. Throws CertError: CERT_DNS when the challenge
 * could not be published or seen everywhere (nothing is answered then), CERT_CA when the CA refused.
 */
export async function issueCertificate(o: IssueOptions): Promise<Issued> {
  const log = o.log ?? (() => undefined);
  const names = certNames(o.spec);
  if (o.directoryCa) acme.axios.defaults.httpsAgent = new Agent({ ca: o.directoryCa });
  let accountKey = await o.store.accountKey();
  if (!accountKey) {
    accountKey = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
    await o.store.saveAccountKey(accountKey);
    log('created an ACME account key (kept in the secrets area)');
  }
  const accountUrl = await o.store.accountUrl(o.directoryUrl);
  const client = new acme.Client({ directoryUrl: o.directoryUrl, accountKey, ...(accountUrl ? { accountUrl } : {}), backoffAttempts: 20, backoffMin: 250, backoffMax: 5_000 });
  const ca = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    o.signal?.throwIfAborted(); // deposed, or the daemon stops: no further step at the CA
    try {
      return await f();
    } catch (e) {
      if (e instanceof CertError) throw e;
      throw new CertError('CERT_CA', `${what} at ${o.directoryUrl}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
  };
  if (!accountUrl) {
    // once per CA: an existing account is only ever used by its URL (updating it with nothing is refused by some CAs)
    await ca('creating the ACME account', async () => {
      try {
        await client.createAccount({ termsOfServiceAgreed: true, ...(o.email ? { contact: [`mailto:${o.email}`] } : {}) });
      } catch (e) {
        // the key already has an account there (its URL was not recorded): the CA may refuse the empty update that
        // follows, but the account is found and usable
        if (!knownAccount(client)) throw e;
        log(`using the existing ACME account of this key at ${o.directoryUrl}`);
      }
    });
    await o.store.saveAccountUrl(o.directoryUrl, client.getAccountUrl());
  }
  const order = await ca('creating the order', () => client.createOrder({ identifiers: names.map((value) => ({ type: 'dns', value })) }));
  const authzs = await ca('reading the authorizations', () => client.getAuthorizations(order));
  const pending: { name: string; value: string; challenge: acme.Authorization['challenges'][number] }[] = [];
  for (const a of authzs) {
    if (a.status === 'valid') continue; // the CA still remembers an earlier validation of this name
    const ch = a.challenges.find((c) => c.type === 'dns-01');
    if (!ch) throw new CertError('CERT_CA', `${o.directoryUrl} offers no dns-01 challenge for ${a.identifier.value}`);
    pending.push({ name: a.identifier.value, value: await client.getChallengeKeyAuthorization(ch), challenge: ch });
  }

  let publishMs = 0;
  if (pending.length > 0) {
    try {
      const out = await publishChallenges(o.spec, pending, o);
      if (!out.ok) throw new CertError('CERT_DNS', out.reason);
      publishMs = out.ms;
      log(`challenge TXT for ${pending.map((p) => p.name).join(', ')} answered by ${out.verify.length} authoritative server(s) after ${out.ms}ms`);
      await ca('answering the challenge', async () => {
        for (const p of pending) await client.completeChallenge(p.challenge);
        for (const p of pending) await client.waitForValidStatus(p.challenge);
      });
    } finally {
      const left = await removeChallenges(o.spec, o);
      if (left.length > 0) log(`challenge TXT not removed at: ${left.join('; ')} (removed on the next attempt)`);
      else log('challenge TXT removed at every provider');
    }
  }

  o.signal?.throwIfAborted();
  const [key, csr] = await acme.crypto.createCsr({ commonName: names[0], altNames: names }, await acme.crypto.createPrivateEcdsaKey('P-256'));
  const cert = await ca('finalizing the order', async () => {
    const done = await client.finalizeOrder(order, csr);
    return client.getCertificate(done);
  });
  await o.store.saveCertificate(cert, key.toString());
  const info = certInfo(cert);
  log(`issued ${names.join(', ')}: serial ${info.serial}, valid until ${new Date(info.notAfter).toISOString()}`);
  return { names, notBefore: info.notBefore, notAfter: info.notAfter, serial: info.serial, publishMs };
}
