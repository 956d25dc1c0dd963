import { StateError } from '../domain/errors.ts';

/**
 * A write refused because this controller no longer holds the leadership it acted under: the leader key is gone or
 * was created again by another campaign (code NOT_LEADER); or because this process no longer holds the lock it wrote
 * under (`who` says which). Nothing was written.
 */
export class FencedError extends StateError {
  constructor(what: string, why: string, who = 'this controller is no longer the leader') {
    super('NOT_LEADER', `${what} refused: ${why}; ${who}`);
  }
}
