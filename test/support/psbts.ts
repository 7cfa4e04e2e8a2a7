// Signed-looking PSBTs for client tests: P2WPKH inputs carrying their values (witnessUtxo, or the
// whole previous transaction), with DER-shaped dummy signatures; no keys, as the server never checks scripts.
import { randomBytes } from 'node:crypto';
import { Psbt, Transaction, payments } from 'bitcoinjs-lib';

const PUBKEY = Uint8Array.from([0x02, ...randomBytes(32)]);
export const P2WPKH_SCRIPT = payments.p2wpkh({ pubkey: PUBKEY }).output!;

export interface PsbtInput {
  txid: string;
  vout: number;
  value: bigint;
  /** Default P2WPKH; an anchor is '51024e73'. */
  script?: Uint8Array;
  /** Carry the whole previous transaction (nonWitnessUtxo) instead of witnessUtxo. */
  previous?: Transaction;
  /** Carry no input value at all. */
  bare?: boolean;
}

export interface PsbtOptions {
  locktime: number;
  inputs: PsbtInput[];
  outs: Array<{ script?: Uint8Array; value: bigint }>;
  version?: number;
  /** 'final': finalScriptWitness set (default); 'signed': partial signatures only; 'unsigned'. */
  state?: 'final' | 'signed' | 'unsigned';
}

/** A DER signature with positive r and s (the high bit clear), which bitcoinjs-lib's finalizer accepts. */
function dummySignature(): Uint8Array {
  const part = () => {
    const b = randomBytes(32);
    b[0] = (b[0]! & 0x7f) | 0x01;
    return [...b];
  };
  return Uint8Array.from([0x30, 0x44, 0x02, 0x20, ...part(), 0x02, 0x20, ...part(), 0x01]);
}

export function makePsbt(o: PsbtOptions): Psbt {
  const psbt = new Psbt();
  psbt.setVersion(o.version ?? 2);
  psbt.setLocktime(o.locktime);
  for (const i of o.inputs) {
    const hash = Uint8Array.from(Buffer.from(i.txid, 'hex').reverse());
    const value = i.previous ? { nonWitnessUtxo: i.previous.toBuffer() } : { witnessUtxo: { script: i.script ?? P2WPKH_SCRIPT, value: i.value } };
    psbt.addInput({ hash, index: i.vout, sequence: 0xfffffffd, ...(i.bare ? {} : value) });
  }
  for (const out of o.outs) psbt.addOutput({ script: out.script ?? P2WPKH_SCRIPT, value: out.value });
  if (o.state === 'unsigned') return psbt;
  o.inputs.forEach((i, n) => {
    if (o.state === 'signed') psbt.updateInput(n, { partialSig: [{ pubkey: PUBKEY, signature: dummySignature() }] });
    // An anchor (P2A) is spent with an empty witness; a key spend with signature and public key.
    else psbt.updateInput(n, { finalScriptWitness: witnessBytes(i.script?.length === 4 ? [] : [dummySignature(), PUBKEY]) });
  });
  return psbt;
}

function witnessBytes(items: Uint8Array[]): Uint8Array {
  return Uint8Array.from([items.length, ...items.flatMap((x) => [x.length, ...x])]);
}

export function txOf(psbt: Psbt): Transaction {
  return psbt.clone().extractTransaction(true);
}
