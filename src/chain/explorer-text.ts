// Text an explorer wrote is untrusted (a hostile or careless one may echo the transaction it was sent):
// scrubbed before it enters an outcome, a record or a log.
const LONG_HEX = /[0-9a-fA-F]{65,}/g;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const MAX_CHARS = 200;

/** Every hex run longer than a txid (64 characters) cut out, control characters blanked, the length bounded. */
export function explorerText(text: string, maxChars = MAX_CHARS): string {
  return text.replace(LONG_HEX, (run) => `<${run.length} hex chars removed>`).replace(CONTROL, ' ').slice(0, maxChars);
}
