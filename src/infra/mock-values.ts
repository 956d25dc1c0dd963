import { createHash } from 'node:crypto';

/** A number 20..219 from a name: mock addresses are stable whatever order resources register in. */
export function octet(name: string): number {
  return 20 + (createHash('sha256').update(name).digest()[0] % 200);
}

/** The first `n` hex digits of the name's sha256: stable mock ids. */
export const hex = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);
