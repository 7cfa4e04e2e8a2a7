// Building a SPEC §7 bundle on the client from signed PSBTs or raw transactions with a stated fee,
// checked by src/domain/bundle.ts (the server's own rules) before anything is sealed.
import { Psbt } from 'bitcoinjs-lib';
import { encodeBundle, parseTx, type Ladder, type RungDraft } from '../domain/bundle.js';
import { locktimeType } from '../domain/locktime.js';
import { bytesOfHex, type Plaintext } from './envelope.js';
import { BadBundleError } from './errors/bad-bundle-error.js';
import { BadTransactionError } from './errors/bad-transaction-error.js';

/** One transaction of a rung: a fully signed PSBT (base64, hex or binary), or a raw transaction and its fee in satoshis. */
export type RungItem = { readonly psbt: string | Uint8Array | Psbt } | { readonly tx: string | Uint8Array; readonly fee: bigint | number };

/** What the client seals for a bundle: the RSB1 bytes (unpadded), the locktime it declares (the first
 * rung's first transaction's), that transaction's txid, and the ladder it holds. */
export interface BundlePlaintext extends Plaintext {
  readonly ladder: Ladder;
}

/** A rung as the receipts file and `submit` show it: the fee in satoshis as a decimal string (uint64). */
export interface RungSummary {
  readonly fee: string;
  readonly feeRate: number;
  readonly txids: readonly string[];
}

export function rungSummaries(ladder: Ladder): RungSummary[] {
  return ladder.rungs.map((r) => ({ fee: String(r.fee ?? 0n), feeRate: Math.round((r.feeRate ?? 0) * 1000) / 1000, txids: r.txs.map((t) => t.txid) }));
}

/** Throws BadTransactionError for what cannot be read, BadBundleError (with the server's code) for a rule broken. */
export function buildBundle(rungs: readonly (readonly RungItem[])[]): BundlePlaintext {
  const drafts = rungs.map((items, r) => draftOf(items, r));
  const first = drafts[0]?.txs[0];
  // The declared locktime is the first transaction's; every other rung is held to it.
  const locktime = (first && parseTx(first)?.tx.locktime) || 0;
  const built = encodeBundle(drafts, locktime);
  if (built.kind === 'invalid') throw new BadBundleError(built.code, built.detail);
  return { bytes: built.plaintext, txid: built.ladder.rungs[0]!.txs[0]!.txid, locktime, locktimeType: locktimeType(locktime), ladder: built.ladder };
}

function draftOf(items: readonly RungItem[], r: number): RungDraft {
  let fee = 0n;
  const txs = items.map((item, t) => {
    const one = 'psbt' in item ? fromPsbt(item.psbt, `rung ${r}, transaction ${t}`) : fromRaw(item, `rung ${r}, transaction ${t}`);
    fee += one.fee;
    return one.bytes;
  });
  return { fee, txs };
}

function fromRaw(item: { readonly tx: string | Uint8Array; readonly fee: bigint | number }, where: string): { bytes: Uint8Array; fee: bigint } {
  if (typeof item.fee === 'number' && !Number.isSafeInteger(item.fee)) throw new BadTransactionError(`${where}: the fee must be a whole number of satoshis`);
  if (typeof item.tx !== 'string') return { bytes: item.tx, fee: BigInt(item.fee) };
  return { bytes: bytesOfHex(item.tx, where), fee: BigInt(item.fee) };
}

/** A signed PSBT's transaction and fee; finalized here if the wallet left that step out. */
function fromPsbt(input: string | Uint8Array | Psbt, where: string): { bytes: Uint8Array; fee: bigint } {
  const psbt = readPsbt(input, where);
  try {
    if (!psbt.data.inputs.every((i) => i.finalScriptSig || i.finalScriptWitness)) psbt.finalizeAllInputs();
  } catch (err) {
    throw new BadTransactionError(`${where}: the PSBT is not fully signed (${(err as Error).message})`, { cause: err });
  }
  try {
    // No fee cap here: the ladder's top rung may pay far more than a wallet's default limit.
    const tx = psbt.extractTransaction(true);
    return { bytes: tx.toBuffer(), fee: psbt.getFee() };
  } catch (err) {
    throw new BadTransactionError(`${where}: the PSBT does not carry the value of every input (witnessUtxo or nonWitnessUtxo): ${(err as Error).message}`, { cause: err });
  }
}

const PSBT_MAGIC = [0x70, 0x73, 0x62, 0x74, 0xff];

/** A Psbt object is copied (finalizing must not change the caller's); bytes that lack the magic are read as text. */
function readPsbt(input: string | Uint8Array | Psbt, where: string): Psbt {
  if (input instanceof Psbt) return input.clone();
  const binary = typeof input !== 'string' && PSBT_MAGIC.every((b, i) => input[i] === b);
  const text = typeof input === 'string' ? input.trim() : new TextDecoder().decode(input).trim();
  try {
    if (binary) return Psbt.fromBuffer(input as Uint8Array);
    return /^[0-9a-fA-F]+$/.test(text) ? Psbt.fromHex(text) : Psbt.fromBase64(text);
  } catch (err) {
    throw new BadTransactionError(`${where} is not a PSBT (base64, hex or binary): ${(err as Error).message}`, { cause: err });
  }
}
