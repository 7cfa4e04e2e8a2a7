// Text an explorer wrote is untrusted: a hostile or careless one may echo the transaction it was
// sent. Before such text enters an outcome, a record or a log, every hex run longer than a txid
// (64 characters) is cut out, control characters are blanked and its length is bounded.
const LONG_HEX = /[0-9a-fA-F]{65,}/g;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const MAX_CHARS = 200;

export function explorerText(text: string, maxChars = MAX_CHARS): string {
  return text.replace(LONG_HEX, (run) => `<${run.length} hex chars removed>`).replace(CONTROL, ' ').slice(0, maxChars);
}
