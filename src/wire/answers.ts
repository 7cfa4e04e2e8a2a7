// The JSON answers of the HTTP API (SPEC §3, with §7 fees and §8 admission) as JSON Schema; the
// TypeScript types are derived from them. Server, client, page and tests all use these.
import Type, { type Static } from 'typebox';
import { ErrorCode, LocktimeType, Network, RecordErrorCode, Status } from './vocabulary.js';

/** The API version /v1/info reports (SPEC §3, version 1). */
export const VERSION = '1.0.0';

/** Lowercase hex of exactly `bytes` bytes, as SPEC §3 carries binary values. */
export const hex = (bytes: number, description: string) => Type.String({ pattern: `^[0-9a-f]{${bytes * 2}}$`, description });

export const Locktime = Type.Integer({ minimum: 0, maximum: 0xffff_ffff, description: "the transaction's nLockTime (uint32)" });
export const RecordId = hex(16, 'the first 16 bytes of SHA-256 of the sealed bytes');
const Txid = hex(32, 'transaction id, as block explorers show it');
const Count = (description: string) => Type.Integer({ minimum: 0, description });

export const Tip = Type.Object({
  height: Count('block height'),
  hash: hex(32, 'block hash'),
  medianTime: Count('median time past of the block (UNIX seconds)'),
});
export type Tip = Static<typeof Tip>;

export const Fees = Type.Object({
  targetBlocks: Count('--fee-target: confirmation target of the estimate'),
  bumpBlocks: Count('--fee-bump-blocks: blocks a sent rung may stay unconfirmed before the next replaces it'),
  estimate: Type.Union([Type.Number({ minimum: 0, description: 'sat/vB' }), Type.Null()]),
});
export type Fees = Static<typeof Fees>;

export const Admission = Type.Object({
  bits: Count('leading zero bits a stamp needs before the size and horizon terms (SPEC §8); 0: no stamp needed'),
  storeFull: Type.Number({ minimum: 0, maximum: 1, description: 'fraction of --max-store-bytes in use, rounded to 0.01' }),
});
export type Admission = Static<typeof Admission>;

const Limits = Type.Object({
  maxSealedBytes: Count('largest sealed blob accepted'),
  maxWindowSeconds: Count('largest `window` accepted'),
  maxRungs: Count('most rungs in a bundle (SPEC §7)'),
  maxTxPerRung: Count('most transactions in one rung (SPEC §7)'),
});

export const ServerInfo = Type.Object({
  name: Type.Literal('relaystore'),
  version: Type.String(),
  network: Network,
  sealing: Type.Object({
    scheme: Type.Literal('curve25519-xsalsa20-poly1305-sealedbox'),
    publicKey: hex(32, 'the current sealing key (Curve25519)'),
    keyId: hex(8, 'the first 8 bytes of SHA-256 of publicKey'),
  }),
  receipts: Type.Object({ scheme: Type.Literal('ed25519'), publicKey: hex(32, 'the key that signs receipts') }),
  tip: Type.Union([Tip, Type.Null()], { description: 'null until the first chain tip is known' }),
  limits: Limits,
  onion: Type.Union([Type.String({ pattern: '^[a-z2-7]{56}\\.onion$' }), Type.Null()], { description: 'null without an onion service' }),
  fees: Fees,
  admission: Admission,
});
export type ServerInfo = Static<typeof ServerInfo>;

export const SubmitAnswer = Type.Object({
  id: RecordId,
  token: hex(32, 'the cancel capability; the server keeps only its hash'),
  status: Status,
  locktime: Locktime,
  locktimeType: LocktimeType,
  receipt: hex(64, 'Ed25519 signature over "relaystore receipt v1\\n<id>\\n<locktime>\\n<hex SHA-256 of sealed bytes>"'),
});
export type SubmitAnswer = Static<typeof SubmitAnswer>;

// rungs, rung, feeRate and txids are filled by the §7 bundle work; optional for every record.
export const RecordStatus = Type.Object({
  id: RecordId,
  status: Status,
  locktime: Locktime,
  locktimeType: LocktimeType,
  txid: Type.Optional(Txid),
  broadcastAt: Type.Optional(Count('when it was first accepted (UNIX seconds)')),
  confirmations: Type.Optional(Count('confirmations seen (broadcast and confirmed only)')),
  error: Type.Optional(Type.Object({ code: RecordErrorCode, message: Type.String() })),
  rungs: Type.Optional(Type.Integer({ minimum: 1, description: 'alternatives the bundle holds' })),
  rung: Type.Optional(Count('0-based index of the rung last sent')),
  feeRate: Type.Optional(Type.Number({ minimum: 0, description: 'fee rate of that rung in sat/vB, as declared' })),
  txids: Type.Optional(Type.Array(Txid, { description: 'the transactions of that rung, parents first' })),
});
export type RecordStatus = Static<typeof RecordStatus>;

export const CancelAnswer = Type.Object({ id: RecordId, status: Type.Literal('cancelled') });
export type CancelAnswer = Static<typeof CancelAnswer>;

/** The error body of SPEC §3, its code limited to `codes` (a route's own codes, or all of them). */
export function errorBodyOf<Codes extends ErrorCode[]>(codes: readonly [...Codes]) {
  return Type.Object({ error: Type.Object({ code: Type.Enum(codes), message: Type.String({ minLength: 1 }) }) });
}

export const ErrorBody = errorBodyOf(ErrorCode.enum);
export type ErrorBody = Static<typeof ErrorBody>;
