import { StateError } from '../domain/errors.ts';

/**
 * What is stored is not a flotilla state (not JSON, or JSON of another shape): nothing is read from it and nothing
 * is ever written over it. Exit 2: a person has to look at it (fix it, or move it aside to start empty).
 */
export class StateCorruptError extends StateError {
  /** The file path or etcd key that holds it. */
  readonly where: string;
  /** Each problem as `path: what was expected`. */
  readonly problems: string[];
  constructor(where: string, problems: string[], hint: string) {
    super('STATE_CORRUPT', `${where} does not hold a flotilla state:\n${problems.map((p) => `  - ${p}`).join('\n')}\n${hint}; nothing was written`, { exitCode: 2 });
    this.where = where;
    this.problems = problems;
  }
}
