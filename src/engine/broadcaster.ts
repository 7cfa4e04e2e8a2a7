// The broadcaster (SPEC §5, §7): sends one rung (a transaction, or a child with its parents) to
// every explorer, each over its own circuit with fresh SOCKS credentials, then checks through
// another explorer and circuit that the network knows it. Answers with one outcome for the attempt.
// Every request waits for room in its explorer's lane of the pacer, sends before checks.
import type { Esplora, PackagePath, PostAnswer } from '../chain/esplora.js';
import { freshCredentials, type SocksCredentials } from '../net/transport.js';
import { Pacer, type Priority } from '../net/pacer.js';
import type { RejectedCode } from '../wire/vocabulary.js';
import type { LadderTx, Rung } from '../domain/bundle.js';
import { silentLogger, type Logger } from '../util/log.js';

export type BroadcastOutcome =
  | { readonly kind: 'accepted'; readonly verified: boolean }
  | { readonly kind: 'non_final'; readonly reason: string }
  /** Refused for its fee (SPEC §7): the next rung, if any, may pass at once. */
  | { readonly kind: 'fee_too_low'; readonly reason: string }
  /** Its inputs are spent by one of the bundle's own transactions, which the network knows. */
  | { readonly kind: 'superseded'; readonly txid: string }
  | { readonly kind: 'rejected'; readonly code: RejectedCode; readonly reason: string }
  | { readonly kind: 'unreachable'; readonly reason: string };

export interface Broadcaster {
  /**
   * Sends `rung` (its transactions parents first, the child last). `ownTxids`: the bundle's other
   * transactions, in the order to ask about them, so that inputs spent by one of them are not taken
   * for a rejection (SPEC §7).
   */
  broadcast(rung: Rung, ownTxids?: readonly string[]): Promise<BroadcastOutcome>;
}

/** Where an explorer takes packages: tried in this order, a 404 moves on to the next. */
const PACKAGE_PATHS: readonly PackagePath[] = ['/txs/package', '/v1/txs/package'];
type PackageRoute = PackagePath | 'one_by_one';

/**
 * Tries per explorer within one broadcast: an attempt cut off at its deadline (a rendezvous that
 * never completes) or refused by Tor is made again at once, each on fresh credentials.
 */
const SEND_TRIES = 3;

export class EsploraBroadcaster implements Broadcaster {
  /** Per explorer, the package route that answered last; in memory, so a restart probes again. */
  private readonly routes = new Map<Esplora, PackageRoute>();

  constructor(
    private readonly explorers: readonly Esplora[],
    private readonly log: Logger = silentLogger,
    private readonly pacer: Pacer = new Pacer({ log }),
  ) {
    if (explorers.length === 0) throw new Error('at least one explorer is needed to broadcast');
  }

  async broadcast(rung: Rung, ownTxids: readonly string[] = []): Promise<BroadcastOutcome> {
    const txs = rung.txs;
    if (txs.length === 0) throw new Error('a rung holds at least one transaction');
    // Each explorer on its own: one that is slow or refuses holds back no other.
    const answers = await Promise.all(this.explorers.map((e) => this.sendTrying(e, txs)));
    return this.combine(answers, txs[txs.length - 1]!.txid, ownTxids);
  }

  /** A fresh credential per (rung, explorer, attempt): its own circuit, shared with nothing else. */
  private async sendTrying(explorer: Esplora, txs: readonly LadderTx[]): Promise<PostAnswer> {
    let answer: PostAnswer = { kind: 'unreachable', reason: 'not tried' };
    for (let i = 0; i < SEND_TRIES && answer.kind === 'unreachable'; i++) {
      answer = await this.paced(explorer, 'send', (timeoutMs) => this.send(explorer, txs, freshCredentials(), timeoutMs), (a) => a.kind !== 'unreachable');
    }
    return answer;
  }

  private paced<T>(explorer: Esplora, priority: Priority, attempt: (timeoutMs: number) => Promise<T>, ok: (answer: T) => boolean): Promise<T> {
    return this.pacer.run({ lane: explorer.label, priority, timeoutMs: explorer.timeoutMs }, attempt, ok);
  }

  private send(explorer: Esplora, txs: readonly LadderTx[], credentials: SocksCredentials, timeoutMs: number): Promise<PostAnswer> {
    if (txs.length === 1) return explorer.broadcast(txs[0]!.hex, credentials, timeoutMs);
    return this.sendPackage(explorer, txs, credentials, timeoutMs);
  }

  private async sendPackage(explorer: Esplora, txs: readonly LadderTx[], credentials: SocksCredentials, timeoutMs: number): Promise<PostAnswer> {
    const known = this.routes.get(explorer) ?? PACKAGE_PATHS[0]!;
    for (const path of PACKAGE_PATHS.slice(known === 'one_by_one' ? PACKAGE_PATHS.length : PACKAGE_PATHS.indexOf(known))) {
      const answer = await explorer.broadcastPackage(txs.map((tx) => tx.hex), path, credentials, timeoutMs);
      if (answer.kind === 'no_endpoint') continue;
      this.remember(explorer, path);
      return answer;
    }
    this.remember(explorer, 'one_by_one');
    return this.oneByOne(explorer, txs, credentials, timeoutMs);
  }

  /** Without a package endpoint: parents first through POST /tx, stopping at the first refusal. */
  private async oneByOne(explorer: Esplora, txs: readonly LadderTx[], credentials: SocksCredentials, timeoutMs: number): Promise<PostAnswer> {
    for (const tx of txs) {
      const answer = await explorer.broadcast(tx.hex, credentials, timeoutMs);
      if (answer.kind !== 'accepted' && answer.kind !== 'already_known') return answer;
    }
    return { kind: 'accepted' };
  }

  private remember(explorer: Esplora, route: PackageRoute): void {
    if (this.routes.get(explorer) === route) return;
    this.log.log('info', 'package_route', { explorer: explorer.label, route });
    this.routes.set(explorer, route);
  }

  private async combine(answers: readonly PostAnswer[], child: string, ownTxids: readonly string[]): Promise<BroadcastOutcome> {
    const acceptedBy = answers.findIndex((a) => a.kind === 'accepted' || a.kind === 'already_known');
    if (acceptedBy >= 0) return { kind: 'accepted', verified: await this.verify(child, acceptedBy) };
    for (const a of answers) if (a.kind === 'non_final') return a;
    // One explorer's node refusing the fee is an answer; another being unreachable is not.
    for (const a of answers) if (a.kind === 'fee_too_low') return a;
    for (const a of answers) if (a.kind === 'unreachable' || a.kind === 'retry') return { kind: 'unreachable', reason: a.reason };
    if (answers.some((a) => a.kind === 'missing_or_spent')) return this.afterMissing(child, ownTxids);
    const invalid = answers.find((a) => a.kind === 'invalid');
    return { kind: 'rejected', code: 'invalid_transaction', reason: invalid && invalid.kind === 'invalid' ? invalid.reason : 'refused' };
  }

  /** "Missing or spent" is a rejection only if none of the bundle's own transactions is known: this rung's child, then `ownTxids`. */
  private async afterMissing(child: string, ownTxids: readonly string[]): Promise<BroadcastOutcome> {
    // Our own transaction, already mined or relayed, also spends "missing" inputs.
    const known = await this.knownAnywhere(child);
    if (known === true) return { kind: 'accepted', verified: true };
    if (known === 'unreachable') return { kind: 'unreachable', reason: 'could not check whether the transaction is known' };
    for (const txid of ownTxids) {
      const own = await this.knownAnywhere(txid);
      if (own === true) return { kind: 'superseded', txid };
      if (own === 'unreachable') return { kind: 'unreachable', reason: 'could not check whether the bundle is known' };
    }
    return { kind: 'rejected', code: 'inputs_missing_or_spent', reason: 'inputs missing or spent' };
  }

  /** Asks an explorer other than the one that accepted (if there is one), over a new circuit: does the network know it? */
  private async verify(txid: string, acceptedBy: number): Promise<boolean> {
    const other = this.explorers[(acceptedBy + 1) % this.explorers.length]!;
    return (await this.knows(other, txid)) === true;
  }

  private async knownAnywhere(txid: string): Promise<boolean | 'unreachable'> {
    const answers = await Promise.all(this.explorers.map((e) => this.knows(e, txid)));
    if (answers.some((a) => a === true)) return true;
    if (answers.every((a) => a === false)) return false;
    return 'unreachable';
  }

  private knows(explorer: Esplora, txid: string): Promise<boolean | { kind: 'unreachable' }> {
    return this.paced(explorer, 'check', (timeoutMs) => explorer.knows(txid, freshCredentials(), timeoutMs), (a) => typeof a === 'boolean');
  }
}
