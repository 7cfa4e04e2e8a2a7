// The tracker: follows a broadcast transaction's status through one explorer per check (rotating,
// each check on a fresh circuit), so that drops and reorgs are noticed and confirmations counted.
// Checks wait in the pacer behind broadcasts: following old ones never slows a burst of new ones.
import type { Esplora, TxStatusAnswer } from '../chain/esplora.js';
import { freshCredentials } from '../net/transport.js';
import { Pacer } from '../net/pacer.js';
import { silentLogger } from '../util/log.js';

export interface Tracker {
  status(txid: string): Promise<TxStatusAnswer>;
}

export class EsploraTracker implements Tracker {
  private next = 0;

  constructor(
    private readonly explorers: readonly Esplora[],
    private readonly pacer: Pacer = new Pacer({ log: silentLogger }),
  ) {}

  async status(txid: string): Promise<TxStatusAnswer> {
    // Try each explorer once, starting from a rotating one, until one answers.
    let last: TxStatusAnswer = { kind: 'unreachable', reason: 'no explorer' };
    for (let i = 0; i < this.explorers.length; i++) {
      const explorer = this.explorers[(this.next + i) % this.explorers.length]!;
      last = await this.paced(explorer, (timeoutMs) => explorer.txStatus(txid, freshCredentials(), timeoutMs), (a) => a.kind !== 'unreachable');
      if (last.kind === 'mempool') {
        // Esplora answers {"confirmed":false} even for a txid it has never seen; only GET /tx/:txid
        // tells a mempool transaction from one that was dropped or reorganised out.
        const known = await this.paced(explorer, (timeoutMs) => explorer.knows(txid, freshCredentials(), timeoutMs), (a) => typeof a === 'boolean');
        if (known === false) last = { kind: 'unknown' };
        else if (known !== true) last = known;
      }
      if (last.kind !== 'unreachable') break;
    }
    this.next = (this.next + 1) % Math.max(1, this.explorers.length);
    return last;
  }

  private paced<T>(explorer: Esplora, attempt: (timeoutMs: number) => Promise<T>, ok: (answer: T) => boolean): Promise<T> {
    return this.pacer.run({ lane: explorer.label, priority: 'track', timeoutMs: explorer.timeoutMs }, attempt, ok);
  }
}
