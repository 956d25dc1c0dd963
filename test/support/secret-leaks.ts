/** Checks that no error carries a secret, in any form a log or a crash report could show it. */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';

/** The error a promise rejects with; a promise that resolves fails the test. */
export async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail('expected a failure');
}

/** Message, string form, inspected object and JSON of every error: none may contain any of the secrets. */
export function assertNoSecretIn(errors: readonly unknown[], secrets: readonly string[]): void {
  for (const e of errors) {
    for (const text of [(e as Error)?.message ?? '', String(e), inspect(e, { depth: 10 }), JSON.stringify(e) ?? '']) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `a secret leaked into an error: ${text}`);
    }
  }
}
