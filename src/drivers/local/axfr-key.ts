/** The TSIG key zone transfers of the embedded server must carry (`axfrTsig`), its secret read from the environment. */
import { tsigKey, type TsigKey } from '../../dns/tsig.ts';
import type { LocalSettings } from './local-settings.ts';

/**
 * The key, none when `axfrTsig` is not set, or why it cannot be built (the variable is unset or not base64).
 * The message names the variable and the key, never the secret.
 */
export function axfrKey(s: LocalSettings['axfrTsig'], env: Readonly<Record<string, string | undefined>>): { key?: TsigKey; problem?: string } {
  if (!s) return {};
  const secret = env[s.secretEnv];
  if (secret === undefined || secret.trim() === '') return { problem: `environment variable ${s.secretEnv} (TSIG secret for key ${s.keyName}) is not set` };
  try {
    return { key: tsigKey(s.keyName, s.algorithm, secret) };
  } catch {
    return { problem: `environment variable ${s.secretEnv} (TSIG secret for key ${s.keyName}) is not valid base64` };
  }
}
