import { z } from 'zod';
import type { Fence } from '../state/cluster.ts';
import type { SecretStore } from '../state/secret-store.ts';

/** What is known about the site's certificate, beside the PEM files: never holds key material. */
export interface CertStatus {
  names: string[];
  directory: string;
  notBefore?: number;
  notAfter?: number;
  serial?: string;
  issuedAt?: number;
  /** Failures in a row since the last issuance (drives the backoff). */
  failures: number;
  lastAttemptAt?: number;
  /** Why the last attempt did not issue (a provider that is down, a CA error); cleared on success. */
  lastError?: string;
  /** No attempt before this (backoff after failures). */
  nextAttemptAt?: number;
  /** Mirror name → when the current certificate was deployed there, or the deploy error. */
  deployed?: Record<string, { at: number; serial?: string; error?: string; skipped?: boolean }>;
  /** Where the current certificate went, in one line ("deployed to every mirror" only when none was skipped or failed). */
  deploySummary?: string;
}

const time = z.number().min(0).max(8.64e15);
const statusSchema = z.looseObject({
  names: z.array(z.string()),
  directory: z.string(),
  notBefore: time.optional(),
  notAfter: time.optional(),
  serial: z.string().optional(),
  issuedAt: time.optional(),
  failures: z.number().int().min(0).default(0),
  lastAttemptAt: time.optional(),
  lastError: z.string().optional(),
  nextAttemptAt: time.optional(),
  deployed: z.record(z.string(), z.looseObject({ at: time, serial: z.string().optional(), error: z.string().optional(), skipped: z.boolean().optional() })).optional(),
  deploySummary: z.string().optional(),
});

const ACCOUNT_KEY = 'acme-account.key';
const ACCOUNTS = 'acme-accounts.json';
const CERT = 'site.crt';
const KEY = 'site.key';
const STATUS = 'site-cert.json';

/**
 * The certificate files in the secrets area (account key, chain, private key, status). Every save carries the
 * fences `fences()` returns at that moment (etcd: refused with FencedError once one no longer holds).
 */
export class CertStore {
  constructor(
    readonly secrets: SecretStore,
    private readonly fences: () => readonly Fence[] = () => [],
  ) {}

  /** The same files, every save fenced by `fences()` (read at each save; throwing there refuses the save). */
  fenced(fences: () => readonly Fence[]): CertStore {
    return new CertStore(this.secrets, fences);
  }

  private async put(name: string, value: string): Promise<void> {
    await this.secrets.put(name, value, this.fences());
  }

  /** Rewrites what is stored in plaintext when the store seals (etcd with a key set later); returns the names. */
  async sealPlaintext(): Promise<string[]> {
    if (!this.secrets.sealing || !this.secrets.plaintextNames) return [];
    const names = await this.secrets.plaintextNames();
    for (const n of names) {
      const v = await this.secrets.get(n);
      if (v !== undefined) await this.put(n, v);
    }
    return names;
  }

  accountKey(): Promise<string | undefined> {
    return this.secrets.get(ACCOUNT_KEY);
  }
  saveAccountKey(pem: string): Promise<void> {
    return this.put(ACCOUNT_KEY, pem);
  }

  /** The account URL at `directory` made with the stored key (an account is per CA). */
  async accountUrl(directory: string): Promise<string | undefined> {
    return (await this.accounts())[directory];
  }
  async saveAccountUrl(directory: string, url: string): Promise<void> {
    await this.put(ACCOUNTS, JSON.stringify({ ...(await this.accounts()), [directory]: url }, null, 1));
  }
  private async accounts(): Promise<Record<string, string>> {
    try {
      const v = JSON.parse((await this.secrets.get(ACCOUNTS)) ?? '{}') as unknown;
      return z.record(z.string(), z.string()).parse(v);
    } catch {
      return {}; // unreadable: the account is looked up again with the key
    }
  }

  async certificate(): Promise<{ cert: string; key: string } | undefined> {
    const [cert, key] = await Promise.all([this.secrets.get(CERT), this.secrets.get(KEY)]);
    return cert && key ? { cert, key } : undefined;
  }
  /** Key first: a certificate is only ever stored with its own key beside it. */
  async saveCertificate(cert: string, key: string): Promise<void> {
    await this.put(KEY, key);
    await this.put(CERT, cert);
  }

  async status(): Promise<CertStatus | undefined> {
    const text = await this.secrets.get(STATUS);
    if (!text) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return undefined; // torn or edited by hand: the next attempt writes a fresh one
    }
    const r = statusSchema.safeParse(raw);
    return r.success ? (r.data as CertStatus) : undefined;
  }
  saveStatus(s: CertStatus): Promise<void> {
    return this.put(STATUS, JSON.stringify(s, null, 1));
  }
}
