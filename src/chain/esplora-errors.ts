// Classifies an Esplora answer to POST /tx (SPEC §5). Esplora relays Bitcoin Core's RPC errors as
// HTTP 400 with a body like `sendrawtransaction RPC error: {"code":-26,"message":"non-final"}`.
export type BroadcastAnswer =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'already_known' }
  | { readonly kind: 'non_final'; readonly reason: string }
  | { readonly kind: 'missing_or_spent' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'retry'; readonly reason: string };

/** Policy refusals that a later mempool may lift: keep the transaction and try again later. */
const TEMPORARY = [
  'min relay fee not met',
  'mempool min fee not met',
  'mempool full',
  'too-long-mempool-chain',
  'txn-mempool-conflict',
  'insufficient fee',
  'too-many-replacements',
  'replacement-adds-unconfirmed',
  'bad-txns-spends-conflicting-tx',
  'Fee exceeds maximum configured',
  'max-fee-exceeded',
];

/** Consensus or script failures: the transaction can never be valid, whatever the chain does. */
const PERMANENT = ['mandatory-script-verify-flag-failed', 'bad-txns-', 'bad-witness', 'TX decode failed', 'scriptsig-', 'tx-size-small', 'dust', 'scriptpubkey', 'version'];

const RPC_ERROR_RE = /RPC error:?\s*(\{.*\})\s*$/s;

export interface RpcError {
  readonly code: number | null;
  readonly message: string;
}

export function parseRpcError(body: string): RpcError {
  const match = RPC_ERROR_RE.exec(body.trim());
  if (match) {
    try {
      const parsed = JSON.parse(match[1]!) as { code?: unknown; message?: unknown };
      return { code: typeof parsed.code === 'number' ? parsed.code : null, message: String(parsed.message ?? '') };
    } catch {
      // Not JSON after all: fall through to the raw text.
    }
  }
  return { code: null, message: body.trim().slice(0, 200) };
}

export function classifyBroadcast(status: number, body: string): BroadcastAnswer {
  if (status >= 200 && status < 300) return { kind: 'accepted' };
  if (status >= 500 || status === 429 || status === 408) return { kind: 'retry', reason: `HTTP ${status}` };
  const { code, message } = parseRpcError(body);
  const m = message.toLowerCase();
  if (code === -27 || m.includes('txn-already-known') || m.includes('txn-already-in-mempool') || m.includes('already in block chain') || m.includes('outputs already in utxo set')) {
    return { kind: 'already_known' };
  }
  if (m.includes('non-bip68-final') || m === 'non-final' || m.startsWith('non-final')) return { kind: 'non_final', reason: message };
  if (m.includes('bad-txns-inputs-missingorspent') || m.includes('missing-inputs') || m.includes('missing inputs') || m.includes('missingorspent')) {
    return { kind: 'missing_or_spent' };
  }
  if (status === 400 && TEMPORARY.some((t) => m.includes(t.toLowerCase()))) return { kind: 'retry', reason: message };
  if (status === 400 && (code === -22 || code === -25 || code === -26) && PERMANENT.some((p) => m.includes(p.toLowerCase()))) {
    return { kind: 'invalid', reason: message };
  }
  // Anything unrecognised is kept and retried: losing a transaction to a quirky explorer is worse.
  return { kind: 'retry', reason: `HTTP ${status}: ${message.slice(0, 120)}` };
}
