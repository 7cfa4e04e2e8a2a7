// Classifies an explorer's answer to a broadcast (SPEC §5, §7): Core's RPC error relayed as HTTP 400
// text, or for a package Core's `submitpackage` result (HTTP 200 JSON) or such a text.
import { explorerText } from './explorer-text.js';
export type BroadcastAnswer =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'already_known' }
  | { readonly kind: 'non_final'; readonly reason: string }
  | { readonly kind: 'fee_too_low'; readonly reason: string }
  | { readonly kind: 'missing_or_spent' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'retry'; readonly reason: string };

/** Refused for its fee: a rung that pays more may pass at once (SPEC §7 climbs on these). */
const FEE = [
  'min relay fee not met',
  'mempool min fee not met',
  'insufficient fee',
  // A full mempool trims the lowest fee rates first: the same refusal, said differently.
  'mempool full',
  'package-fee-too-low',
  'package rbf failed: insufficient',
];

/** Policy refusals that a later mempool may lift: keep the transaction and try again later. */
const TEMPORARY = [
  'too-long-mempool-chain',
  'txn-mempool-conflict',
  'too-many-replacements',
  'replacement-adds-unconfirmed',
  'bad-txns-spends-conflicting-tx',
  'Fee exceeds maximum configured',
  'max-fee-exceeded',
];

/**
 * Consensus or policy failures of the transaction itself: it can never pass, whatever the chain
 * does. Bitcoin Core's reject reasons, matched whole (the text before any ", details" or " (...)"):
 * a loose substring took bad-txns-premature-spend-of-coinbase or a TRUC "version=3" refusal for these.
 */
const PERMANENT = new Set([
  // consensus/tx_check.cpp, consensus/tx_verify.cpp
  'bad-txns-vin-empty', 'bad-txns-vout-empty', 'bad-txns-oversize', 'bad-txns-vout-negative', 'bad-txns-vout-toolarge',
  'bad-txns-txouttotal-toolarge', 'bad-txns-inputs-duplicate', 'bad-txns-prevout-null', 'bad-cb-length', 'coinbase',
  'bad-txns-inputvalues-outofrange', 'bad-txns-in-belowout', 'bad-txns-fee-outofrange',
  // policy: the transaction's own version, size, scripts and outputs
  'version', 'tx-size', 'tx-size-small', 'scriptsig-size', 'scriptsig-not-pushonly', 'scriptpubkey', 'bare-multisig', 'dust',
  'multi-op-return', 'bad-txns-nonstandard-inputs', 'bad-txns-too-many-sigops', 'bad-witness-nonstandard',
]);

/** Clears once the coinbase it spends is 100 blocks deep: held for a later tip, like non-final. */
const PREMATURE_COINBASE = 'bad-txns-premature-spend-of-coinbase';

/** Core's reject reason: the message before its details (", 100 < 141") or a script error's " (…)". */
function reasonOf(message: string): string {
  return message.split(', ')[0]!.split(' (')[0]!.trim();
}

/** A reason that says the transaction itself is invalid for good. */
function isPermanent(reason: string): boolean {
  return PERMANENT.has(reason) || reason.includes('script-verify-flag') || reason.startsWith('tx decode failed');
}

// The JSON runs from the first "RPC error" to the end. Found in two linear steps: one regex
// /RPC error:?\s*(\{.*\})\s*$/s backtracks over the whole text from every "RPC error" in it
// (a 64 KiB package answer of them held the event loop for seconds).
const RPC_ERROR_START_RE = /RPC error:?\s*\{/;
const RPC_DESERIALIZATION_ERROR = -22;

export interface RpcError {
  readonly code: number | null;
  readonly message: string;
}

/**
 * Esplora relays Core's RPC errors as text like `sendrawtransaction RPC error: {"code":-26,"message":"non-final"}`.
 * The explorer's text enters here, scrubbed (explorer-text.ts) before anything is cut from it.
 */
export function parseRpcError(body: string): RpcError {
  const text = unwrapJsonError(body.trim());
  const json = rpcErrorJson(text);
  if (json !== null) {
    try {
      const parsed = JSON.parse(json) as { code?: unknown; message?: unknown };
      return { code: typeof parsed.code === 'number' ? parsed.code : null, message: explorerText(String(parsed.message ?? '')) };
    } catch {
      // Not JSON after all: fall through to the raw text.
    }
  }
  return { code: null, message: explorerText(text) };
}

/** From the brace after the first "RPC error" to the text's last character, when that is a closing brace. */
function rpcErrorJson(text: string): string | null {
  const start = RPC_ERROR_START_RE.exec(text);
  const end = text.trimEnd();
  return start && end.endsWith('}') ? end.slice(start.index + start[0].length - 1) : null;
}

/** mempool.space's own routes answer errors as `{"error":"<text>"}` to clients that accept JSON. */
function unwrapJsonError(body: string): string {
  if (!body.startsWith('{')) return body;
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed?.error === 'string' ? parsed.error.trim() : body;
  } catch {
    return body;
  }
}

export function classifyBroadcast(status: number, body: string): BroadcastAnswer {
  if (status >= 200 && status < 300) return { kind: 'accepted' };
  if (status >= 500 || status === 429 || status === 408) return { kind: 'retry', reason: `HTTP ${status}` };
  const { code, message } = parseRpcError(body);
  return classifyRejection(code, message, status);
}

/** One reject reason: sendrawtransaction's error, or the `error` of one `tx-results` entry. */
export function classifyRejection(code: number | null, message: string, status = 400): BroadcastAnswer {
  const m = message.toLowerCase();
  if (code === -27 || m.includes('txn-already-known') || m.includes('txn-already-in-mempool') || m.includes('already in block chain') || m.includes('outputs already in utxo set')) {
    return { kind: 'already_known' };
  }
  const reason = reasonOf(m);
  if (m.includes('non-bip68-final') || m === 'non-final' || m.startsWith('non-final') || reason === PREMATURE_COINBASE) return { kind: 'non_final', reason: message };
  if (m.includes('bad-txns-inputs-missingorspent') || m.includes('missing-inputs') || m.includes('missing inputs') || m.includes('missingorspent')) {
    return { kind: 'missing_or_spent' };
  }
  if (status !== 400) return { kind: 'retry', reason: `HTTP ${status}: ${message.slice(0, 120)}` };
  if (FEE.some((f) => m.includes(f))) return { kind: 'fee_too_low', reason: message };
  if (TEMPORARY.some((t) => m.includes(t.toLowerCase()))) return { kind: 'retry', reason: message };
  if (code === RPC_DESERIALIZATION_ERROR) return { kind: 'invalid', reason: message || 'TX decode failed' };
  if ((code === -25 || code === -26) && isPermanent(reason)) return { kind: 'invalid', reason: message };
  // Anything unrecognised is kept and retried: losing a transaction to a quirky explorer is worse.
  return { kind: 'retry', reason: `HTTP ${status}: ${message.slice(0, 120)}` };
}
