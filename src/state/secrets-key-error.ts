import { FlotillaError } from '../domain/errors.ts';

/**
 * The secrets area cannot be read or written with the key at hand: SECRETS_KEY_MISSING (a sealed value and no key,
 * or `state.secretsKeyEnv` names an unset variable), SECRETS_KEY_WRONG (another key sealed it, the variable does
 * not hold 32 bytes of base64, or the value does not open). Exit 2: the operator fixes the key, nothing was written.
 */
export class SecretsKeyError extends FlotillaError {
  constructor(code: 'SECRETS_KEY_MISSING' | 'SECRETS_KEY_WRONG', message: string) {
    super(code, message, { exitCode: 2 });
  }
}
