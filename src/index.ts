// The package's main export: the client library for wallets (seal, pad, submit through Tor).
export { RelayStoreClient, type RelayStoreClientOptions, type Submission } from './client/client.js';
export type { ServerInfo, RecordStatus, SubmitAnswer, CancelAnswer, ErrorBody } from './wire/answers.js';
export { FINAL_STATUSES, type ErrorCode, type Status, type Network, type RecordErrorCode } from './wire/vocabulary.js';
export { parseTransaction, sealTransaction, type Plaintext, type ParsedTransaction, type SealedTransaction } from './client/envelope.js';
export { buildBundle, rungSummaries, type RungItem, type RungSummary, type BundlePlaintext } from './client/bundle-builder.js';
export { BadBundleError } from './client/errors/bad-bundle-error.js';
export { MAX_RUNGS, MAX_TX_PER_RUNG, type Ladder, type Rung, type LadderTx, type OpeningCode } from './domain/bundle.js';
export { seal, openSealed, SEAL_OVERHEAD } from './crypto/sealed-box.js';
export { pad, paddedLength } from './crypto/padding.js';
export { verifyReceipt, receiptMessage } from './keys/receipts.js';
export { RelayStoreError } from './client/errors/relaystore-error.js';
export { UnreachableError } from './client/errors/unreachable-error.js';
export { BadTransactionError } from './client/errors/bad-transaction-error.js';
export { ServerError } from './client/errors/server-error.js';
export { BadResponseError } from './client/errors/bad-response-error.js';
export { BadReceiptError } from './client/errors/bad-receipt-error.js';
export { KeyMismatchError } from './client/errors/key-mismatch-error.js';
export { StampTooHardError } from './client/errors/stamp-too-hard-error.js';
export { DEFAULT_MAX_STAMP_BITS } from './domain/stamp.js';
export {
  RelayStoreGroup,
  overallStatus,
  GROUP_ID,
  type RelayStoreGroupOptions,
  type GroupServer,
  type GroupMember,
  type Group,
  type GroupSubmission,
  type GroupSubmitOptions,
  type ServerOutcome,
  type MemberStatus,
  type GroupStatus,
  type CancelOutcome,
  type CancelReport,
  type RenewOptions,
  type RenewResult,
  type AuditReport,
} from './client/group.js';
export { type AuditFinding, type Evidence } from './client/group-audit.js';
export { NotEnoughAcceptancesError } from './client/errors/not-enough-acceptances-error.js';
export {
  isRelayStoreError,
  isServerError,
  isUnreachableError,
  isBadTransactionError,
  isBadBundleError,
  isBadResponseError,
  isBadReceiptError,
  isKeyMismatchError,
  isNotEnoughAcceptancesError,
  isStampTooHardError,
} from './client/errors/type-guards.js';
