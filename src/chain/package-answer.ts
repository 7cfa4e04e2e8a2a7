// Classifies an explorer's answer to a package (SPEC §7): Bitcoin Core's `submitpackage` result,
// relayed as HTTP 200 JSON, or an error text classified like an answer to POST /tx.
import { classifyBroadcast, classifyRejection, type BroadcastAnswer } from './esplora-errors.js';
import { explorerText } from './explorer-text.js';

/** What one submitpackage result says: the package message and each transaction's error (null: accepted). */
export interface PackageResult {
  readonly message: string;
  readonly errors: ReadonlyArray<string | null>;
}

const MAX_ENTRIES = 25;
const MAX_TEXT = 1000;
// Per-transaction errors are mempool rejections: RPC_VERIFY_REJECTED, as sendrawtransaction says.
const VERIFY_REJECTED = -26;

/** Stronger first: a combined answer is the strongest one among its parts. */
const STRENGTH: ReadonlyArray<BroadcastAnswer['kind']> = ['invalid', 'missing_or_spent', 'non_final', 'fee_too_low', 'retry'];

export function classifyPackage(status: number, body: string): BroadcastAnswer {
  if (status !== 200) return classifyBroadcast(status, body);
  const result = parsePackageResult(body);
  if (!result) return { kind: 'retry', reason: 'package answer: unexpected shape' };
  // "success": every transaction was accepted or already in the mempool.
  if (result.message === 'success') return { kind: 'accepted' };
  const parts = result.errors.map((e) => (e === null ? ACCEPTED : classifyRejection(VERIFY_REJECTED, e)));
  if (parts.length > 0 && parts.every(isAccepted)) return { kind: 'accepted' };
  return strongest([classifyRejection(null, result.message), ...parts.filter((p) => !isAccepted(p))]);
}

export function parsePackageResult(body: string): PackageResult | null {
  let parsed: { package_msg?: unknown; 'tx-results'?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return null;
  }
  const message = parsed?.package_msg;
  const results = parsed?.['tx-results'] ?? {};
  if (typeof message !== 'string' || message.length > MAX_TEXT || typeof results !== 'object' || results === null || Array.isArray(results)) return null;
  const entries = Object.values(results as Record<string, unknown>);
  if (entries.length > MAX_ENTRIES) return null;
  const errors = entries.map(entryError);
  return errors.includes(undefined) ? null : { message: explorerText(message), errors: errors as Array<string | null> };
}

/** null when the entry says the transaction is in the mempool; undefined when it is not an entry. */
function entryError(entry: unknown): string | null | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const error = (entry as { error?: unknown }).error;
  if (error === undefined) return null;
  return typeof error === 'string' ? explorerText(error, MAX_TEXT) : undefined;
}

const ACCEPTED: BroadcastAnswer = { kind: 'accepted' };

function isAccepted(a: BroadcastAnswer): boolean {
  return a.kind === 'accepted' || a.kind === 'already_known';
}

function strongest(answers: readonly BroadcastAnswer[]): BroadcastAnswer {
  const rank = (a: BroadcastAnswer) => STRENGTH.indexOf(a.kind);
  return answers.reduce((best, a) => (rank(a) < rank(best) ? a : best));
}
