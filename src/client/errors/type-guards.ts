// Type guards for the client library's errors, one per class, as ky has them: `instanceof` fails
// when two copies of the library meet (a wallet that bundles its own), so the error's name counts too.
import { BadBundleError } from './bad-bundle-error.js';
import { BadReceiptError } from './bad-receipt-error.js';
import { BadResponseError } from './bad-response-error.js';
import { BadTransactionError } from './bad-transaction-error.js';
import { KeyMismatchError } from './key-mismatch-error.js';
import { NotEnoughAcceptancesError } from './not-enough-acceptances-error.js';
import { RelayStoreError } from './relaystore-error.js';
import { ServerError } from './server-error.js';
import { StampTooHardError } from './stamp-too-hard-error.js';
import { UnreachableError } from './unreachable-error.js';

type Guard<T> = (error: unknown) => error is T;

// Names are written out: a minifier may rename the classes, never these strings. A class's guard
// also names its subclasses.
function guard<T extends Error>(Class: abstract new (...args: never[]) => T, ...names: string[]): Guard<T> {
  return (error): error is T => error instanceof Class || names.includes(String((error as { name?: unknown } | null)?.name));
}

/** The server refused the request; `error.code` is the SPEC code, `error.status` the HTTP status. */
export const isServerError = guard(ServerError, 'ServerError');
/** The server could not be reached (Tor, the onion, a timeout). */
export const isUnreachableError = guard(UnreachableError, 'UnreachableError');
/** A bundle the server would find invalid; `error.code` is the opener's code. */
export const isBadBundleError = guard(BadBundleError, 'BadBundleError');
/** What was handed in is not a transaction, or not a valid bundle. */
export const isBadTransactionError = guard(BadTransactionError, 'BadTransactionError', 'BadBundleError');
/** The server answered something the SPEC does not allow. */
export const isBadResponseError = guard(BadResponseError, 'BadResponseError');
/** The receipt does not verify: the submission must not count as accepted. */
export const isBadReceiptError = guard(BadReceiptError, 'BadReceiptError');
/** The server's sealing key is not the pinned one; nothing was sent. */
export const isKeyMismatchError = guard(KeyMismatchError, 'KeyMismatchError');
/** Fewer servers of a group accepted than required; `error.group` holds the ones that did. */
export const isNotEnoughAcceptancesError = guard(NotEnoughAcceptancesError, 'NotEnoughAcceptancesError');

/** The server asked for more proof of work than maxStampBits; `error.bits` and `error.maxBits` say how much. */
export const isStampTooHardError = guard(StampTooHardError, 'StampTooHardError');

/** Any error the client library throws for an expected failure. */
export const isRelayStoreError = guard(
  RelayStoreError,
  'RelayStoreError',
  'ServerError',
  'UnreachableError',
  'BadTransactionError',
  'BadBundleError',
  'BadResponseError',
  'BadReceiptError',
  'KeyMismatchError',
  'NotEnoughAcceptancesError',
  'StampTooHardError',
);
