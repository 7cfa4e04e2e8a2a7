// The broadcaster (SPEC §5): sends one opened transaction to every explorer, each over its own
// circuit with fresh SOCKS credentials, then checks through another explorer and circuit that the
// network knows it. Answers with one outcome for the whole attempt.
import type { Esplora, PostAnswer } from '../chain/esplora.js';
import { freshCredentials } from '../net/transport.js';
import type { RejectedCode } from '../domain/record.js';

export type BroadcastOutcome =
  | { readonly kind: 'accepted'; readonly verified: boolean }
  | { readonly kind: 'non_final'; readonly reason: string }
  | { readonly kind: 'rejected'; readonly code: RejectedCode; readonly reason: string }
  | { readonly kind: 'unreachable'; readonly reason: string };

export interface Broadcaster {
  broadcast(rawHex: string, txid: string): Promise<BroadcastOutcome>;
}

export class EsploraBroadcaster implements Broadcaster {
  constructor(private readonly explorers: readonly Esplora[]) {
    if (explorers.length === 0) throw new Error('at least one explorer is needed to broadcast');
  }

  async broadcast(rawHex: string, txid: string): Promise<BroadcastOutcome> {
    const answers: PostAnswer[] = await Promise.all(this.explorers.map((e) => e.broadcast(rawHex, freshCredentials())));
    const acceptedBy = answers.findIndex((a) => a.kind === 'accepted' || a.kind === 'already_known');
    if (acceptedBy >= 0) return { kind: 'accepted', verified: await this.verify(txid, acceptedBy) };

    const nonFinal = answers.find((a) => a.kind === 'non_final');
    if (nonFinal && nonFinal.kind === 'non_final') return { kind: 'non_final', reason: nonFinal.reason };

    const transient = answers.find((a) => a.kind === 'unreachable' || a.kind === 'retry');
    if (transient && (transient.kind === 'unreachable' || transient.kind === 'retry')) {
      return { kind: 'unreachable', reason: transient.reason };
    }

    if (answers.some((a) => a.kind === 'missing_or_spent')) {
      // Our own transaction, already mined or relayed, also spends "missing" inputs.
      const known = await this.knownAnywhere(txid);
      if (known === true) return { kind: 'accepted', verified: true };
      if (known === 'unreachable') return { kind: 'unreachable', reason: 'could not check whether the transaction is known' };
      return { kind: 'rejected', code: 'inputs_missing_or_spent', reason: 'inputs missing or spent' };
    }
    const invalid = answers.find((a) => a.kind === 'invalid');
    return { kind: 'rejected', code: 'invalid_transaction', reason: invalid && invalid.kind === 'invalid' ? invalid.reason : 'refused' };
  }

  /** Asks an explorer other than the one that accepted (if there is one), over a new circuit. */
  private async verify(txid: string, acceptedBy: number): Promise<boolean> {
    const other = this.explorers[(acceptedBy + 1) % this.explorers.length]!;
    const known = await other.knows(txid, freshCredentials());
    return known === true;
  }

  private async knownAnywhere(txid: string): Promise<boolean | 'unreachable'> {
    const answers = await Promise.all(this.explorers.map((e) => e.knows(txid, freshCredentials())));
    if (answers.some((a) => a === true)) return true;
    if (answers.every((a) => a === false)) return false;
    return 'unreachable';
  }
}
