// Fewer servers of a group accepted the transaction than the caller required. The accepted ones
// are still stored (and armed) there: `group` carries them, with their tokens, so they can be cancelled or kept.
import type { GroupSubmission } from '../group.js';
import { RelayStoreError } from './relaystore-error.js';

export class NotEnoughAcceptancesError extends RelayStoreError {
  constructor(
    readonly group: GroupSubmission,
    readonly required: number,
  ) {
    super(`${group.members.length} of ${group.outcomes.length} servers accepted the transaction, ${required} required; the accepted ones stay armed (see .group)`);
    this.name = 'NotEnoughAcceptancesError';
  }
}
