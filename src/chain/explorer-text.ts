// Text an explorer wrote is untrusted (a hostile or careless one may echo the transaction it was sent):
// scrubbed before it enters an outcome, a record or a log.

/**
 * Hex groups separated only by whitespace (or by JSON's escaped \n, \r, \t, in a body that did not
 * parse): a transaction echoed whole, or broken into lines of 64 characters or fewer, is one run.
 */
const HEX_GROUPS = /[0-9a-fA-F]+(?:(?:\s|\\[nrt])+[0-9a-fA-F]+)*/g;
const NOT_HEX = /[^0-9a-fA-F]/g;
/** A txid is 64 hex characters: a run holding more is taken for a transaction, or a piece of one. */
const MAX_HEX = 64;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const MAX_CHARS = 200;

/**
 * Control characters blanked first (so that they cannot split a run), then every run of hex groups
 * holding more hex than a txid cut out whole, then the length bounded. The price: a txid right after
 * a word ending in a hex letter ("txid <txid>") joins it, and is cut out too.
 */
export function explorerText(text: string, maxChars = MAX_CHARS): string {
  return text.replace(CONTROL, ' ').replace(HEX_GROUPS, scrubRun).slice(0, maxChars);
}

function scrubRun(run: string): string {
  const hex = run.replace(NOT_HEX, '').length;
  return hex > MAX_HEX ? `<${hex} hex chars removed>` : run;
}
