import type { SecretStore } from '../state/secret-store.ts';
import { keysFor, withKeys, type HostKey } from './known-hosts.ts';

/** The secret holding every mirror's pinned SSH host keys, as known_hosts text. */
export const KNOWN_HOSTS_SECRET = 'ssh-known-hosts';
const LOCK_MS = 30_000;

/**
 * The mirrors' SSH host keys, pinned in the state store's secrets area (`<state.path>/secrets/ssh-known-hosts`, 0600;
 * `<prefix>secrets/ssh-known-hosts` in etcd, so every controller of a stack checks against the same pins).
 * - text(): the whole known_hosts ('' before any pin), what a deploy hands to ssh.
 * - pinned(host, port): the keys pinned for that address; [] means never reached (the next deploy trusts on first use).
 * - pinIfNew: pins `keys` only when the address has none yet (first use); returns what is pinned afterwards.
 * - replace: pins `keys` whatever was pinned (`flotilla certs trust`).
 * Writes re-read the secret under its lock, so pins of other addresses written meanwhile are kept.
 */
export class HostKeyPins {
  constructor(private readonly secrets: SecretStore) {}

  async text(): Promise<string> {
    return (await this.secrets.get(KNOWN_HOSTS_SECRET)) ?? '';
  }

  async pinned(host: string, port: number): Promise<HostKey[]> {
    return keysFor(await this.text(), host, port);
  }

  pinIfNew(host: string, port: number, keys: readonly HostKey[], comment: string): Promise<{ added: boolean; keys: HostKey[] }> {
    return this.secrets.exclusive(KNOWN_HOSTS_SECRET, async () => {
      const text = await this.text();
      const have = keysFor(text, host, port);
      if (have.length > 0 || keys.length === 0) return { added: false, keys: have };
      await this.secrets.put(KNOWN_HOSTS_SECRET, withKeys(text, host, port, keys, comment));
      return { added: true, keys: [...keys] };
    }, LOCK_MS);
  }

  replace(host: string, port: number, keys: readonly HostKey[], comment: string): Promise<void> {
    return this.secrets.exclusive(KNOWN_HOSTS_SECRET, async () => {
      await this.secrets.put(KNOWN_HOSTS_SECRET, withKeys(await this.text(), host, port, keys, comment));
    }, LOCK_MS);
  }
}
