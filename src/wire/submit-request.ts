// The body of POST /v1/transactions (SPEC §3; `stamp`, §8): its schema, built with the server's
// limits, and the SPEC error code that a failure of each field maps to. No node-only imports.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { TLocalizedValidationError } from 'typebox/error';
import { SEAL_OVERHEAD } from '../crypto/sealed-box.js';
import { hex, Locktime } from './answers.js';
import { STAMP_NONCE_PATTERN } from '../domain/stamp.js';
import type { ErrorCode } from './vocabulary.js';

/** The smallest serialized transaction: version, 1 input with empty script, 1 output with empty script, locktime. */
export const MIN_TX_BYTES = 60;
/** Below this a sealed blob cannot hold a transaction (`invalid_sealed`). */
export const MIN_SEALED_BYTES = SEAL_OVERHEAD + MIN_TX_BYTES;

export interface SubmitLimits {
  readonly maxSealedBytes: number;
  readonly maxWindowSeconds: number;
}

export function submitRequestSchema(limits: SubmitLimits) {
  return Type.Object({
    locktime: Locktime,
    sealed: Type.String({
      // Upper case is tolerated on input, as it always was; answers are lowercase.
      pattern: '^(?:[0-9a-fA-F]{2})*$',
      minLength: 2 * MIN_SEALED_BYTES,
      maxLength: 2 * limits.maxSealedBytes,
      description: 'crypto_box_seal(padded transaction, sealing key), in hex',
    }),
    window: Type.Optional(Type.Integer({ minimum: 0, maximum: limits.maxWindowSeconds, description: 'seconds after maturity within which it is sent at a random moment (default 0)' })),
    keyId: Type.Optional(hex(8, 'the sealing key used (default: the current one)')),
    stamp: Type.Optional(Type.String({ pattern: STAMP_NONCE_PATTERN, description: 'proof-of-work nonce of 8 to 32 bytes (SPEC §8)' })),
  });
}
export type SubmitRequest = Static<ReturnType<typeof submitRequestSchema>>;

/** The largest body a submission needs: the hex of the largest sealed blob, and room for the other fields. */
export function submitBodyLimit(limits: SubmitLimits): number {
  return limits.maxSealedBytes * 2 + 4096;
}

export interface Refusal {
  readonly code: ErrorCode;
  readonly message: string;
}
export type SubmitCheck = { readonly ok: true; readonly request: SubmitRequest } | ({ readonly ok: false } & Refusal);

/** A JSON Schema keyword that failed, and what SPEC §3 answers for it. */
type Row = readonly [keyword: string, code: ErrorCode, message: string];

/** Fields in the order they are judged; per field, its keywords most telling first. The first row
 * also answers a missing or mistyped value. */
function refusalTable(limits: SubmitLimits): Record<keyof SubmitRequest, readonly Row[]> {
  return {
    locktime: [['type', 'invalid_locktime', 'locktime must be an integer from 0 to 4294967295']],
    sealed: [
      ['type', 'invalid_sealed', 'sealed must be a hex string'],
      ['pattern', 'invalid_sealed', 'sealed is not valid hex'],
      ['maxLength', 'payload_too_large', `sealed is larger than ${limits.maxSealedBytes} bytes`],
      ['minLength', 'invalid_sealed', `sealed is too short to hold a transaction (${MIN_SEALED_BYTES} bytes at least)`],
    ],
    window: [['type', 'invalid_window', `window must be an integer number of seconds from 0 to ${limits.maxWindowSeconds}`]],
    keyId: [['type', 'unknown_key', 'keyId must be 16 lowercase hex digits']],
    stamp: [['type', 'stamp_required', 'stamp must be a hex nonce of 8 to 32 bytes']],
  };
}

const NOT_AN_OBJECT: Refusal = { code: 'invalid_json', message: 'the body must be a JSON object' };

/** Compiles the schema once; the returned check answers a body with the request or its refusal. */
export function submitRequestChecker(limits: SubmitLimits): (body: unknown) => SubmitCheck {
  const validator = Compile(submitRequestSchema(limits));
  const table = refusalTable(limits);
  return (body) => (validator.Check(body) ? { ok: true, request: body } : { ok: false, ...firstRefusal(table, validator.Errors(body)) });
}

function firstRefusal(table: Record<string, readonly Row[]>, errors: readonly TLocalizedValidationError[]): Refusal {
  if (errors.some((e) => e.instancePath === '' && e.keyword === 'type')) return NOT_AN_OBJECT;
  for (const [field, rows] of Object.entries(table)) {
    const failed: string[] = errors.filter((e) => concerns(e, field)).map((e) => e.keyword);
    if (failed.length === 0) continue;
    const [, code, message] = rows.find(([keyword]) => failed.includes(keyword)) ?? rows[0]!;
    return { code, message };
  }
  // The schema has no rule outside the table; this answers only a schema edited without it.
  return { code: 'invalid_json', message: 'the body does not match the request schema' };
}

function concerns(error: TLocalizedValidationError, field: string): boolean {
  if (error.keyword === 'required') return error.params.requiredProperties.includes(field);
  return error.instancePath === `/${field}`;
}
