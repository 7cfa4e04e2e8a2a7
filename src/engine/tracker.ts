// The tracker: follows a broadcast transaction's status through one explorer per check (rotating,
// each check on a fresh circuit), so that drops and reorgs are noticed and confirmations counted.
import type { Esplora, TxStatusAnswer } from '../chain/esplora.js';
import { freshCredentials } from '../net/transport.js';

export interface Tracker {
  status(txid: string): Promise<TxStatusAnswer>;
}

export class EsploraTracker implements Tracker {
  private next = 0;

  constructor(private readonly explorers: readonly Esplora[]) {}

  async status(txid: string): Promise<TxStatusAnswer> {
    // Try each explorer once, starting from a rotating one, until one answers.
    let last: TxStatusAnswer = { kind: 'unreachable', reason: 'no explorer' };
    for (let i = 0; i < this.explorers.length; i++) {
      const explorer = this.explorers[(this.next + i) % this.explorers.length]!;
      last = await explorer.txStatus(txid, freshCredentials());
      if (last.kind === 'mempool') {
        // Esplora answers {"confirmed":false} even for a txid it has never seen; only GET /tx/:txid
        // tells a mempool transaction from one that was dropped or reorganised out.
        const known = await explorer.knows(txid, freshCredentials());
        if (known === false) last = { kind: 'unknown' };
        else if (known !== true) last = known;
      }
      if (last.kind !== 'unreachable') break;
    }
    this.next = (this.next + 1) % Math.max(1, this.explorers.length);
    return last;
  }
}
