// The page's script, when JavaScript is on: seals in the browser, so the server never sees the
// transaction before it matures. Bundled by scripts/build-page.ts from the modules src/ uses.

// A rule the page needs is one import from src/, never a copy.
import { hexToBytes } from '@noble/hashes/utils.js';
import { parseTransaction, sealTransaction, submitRequestOf } from '../src/client/envelope.js';
import { seal } from '../src/crypto/sealed-box.js';
import { bitsAsked, checkStamp, DEFAULT_MAX_STAMP_BITS, requiredBits, solveInSlices, solveStamp, stampCapRefusal, STAMP_ROUNDS, type StampProgress } from '../src/domain/stamp.js';
import type { SubmitRequest } from '../src/wire/submit-request.js';
import type { ErrorBody, ServerInfo, SubmitAnswer } from '../src/wire/answers.js';

// The bundle exports what it computes with, so that the tests hold this very file (as the browser
// runs it) to the fixture tables.
export { parseTransaction, sealTransaction, seal, checkStamp, requiredBits, solveStamp };

type Row = readonly [name: string, value: string, cls?: string];

type Answer = { readonly ok: true; readonly status: number; readonly body: SubmitAnswer } | { readonly ok: false; readonly status: number; readonly body: ErrorBody };

function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no #${id}`);
  return element;
}

function list(rows: readonly Row[]): HTMLDListElement {
  const dl = document.createElement('dl');
  for (const [name, value, cls] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value;
    dd.className = cls ?? 'hex';
    dd.dataset.field = name;
    dl.append(dt, dd);
  }
  return dl;
}

function show(result: HTMLElement, kind: string, rows: readonly Row[], text: string): void {
  result.replaceChildren();
  result.className = kind;
  result.hidden = false;
  const p = document.createElement('p');
  p.textContent = text;
  result.append(p);
  if (rows.length) result.append(list(rows));
}

interface SealedForm {
  readonly body: SubmitRequest;
  readonly txid: string;
  readonly id: string;
  readonly size: number;
  readonly locktime: number;
}

/** SPEC §3's submission body, sealed here; the txid is only shown (the server learns it when it opens the blob at maturity). */
function sealForm(form: HTMLFormElement, tx: string, delay: string): SealedForm {
  const parsed = parseTransaction(tx);
  const sealed = sealTransaction(hexToBytes(form.dataset.publicKey ?? ''), parsed);
  const body = submitRequestOf(sealed, form.dataset.keyId, delay !== '' ? Number(delay) : undefined);
  return { body, txid: parsed.txid, id: sealed.id, size: sealed.sealed.length, locktime: parsed.locktime };
}

/** The stamp SPEC §8 asks for now (at least `asked` bits), computed here in slices; none while the server is calm. */
async function stampFor(sealed: SealedForm, asked: number, result: HTMLElement): Promise<string | undefined> {
  const info = (await (await fetch('/v1/info', { credentials: 'omit', referrerPolicy: 'no-referrer' })).json()) as ServerInfo;
  const terms = { admissionBits: info.admission.bits, sealedBytes: sealed.size, locktime: sealed.locktime, tip: info.tip, now: Math.floor(Date.now() / 1000) };
  const bits = Math.max(requiredBits(terms), asked);
  if (bits === 0) return undefined;
  // More than the client library computes by default: refused before any search (the catch in start() shows it).
  const refusal = stampCapRefusal(bits, DEFAULT_MAX_STAMP_BITS);
  if (refusal !== null) throw new Error(`${refusal[0]!.toUpperCase()}${refusal.slice(1)}.`);
  return solveInSlices(sealed.id, sealed.locktime, bits, { onProgress: (p) => show(result, 'note', [], working(p)) });
}

function working(p: StampProgress): string {
  const rate = Math.max(1, p.hashesPerSecond);
  const seconds = Math.round(p.expected / rate);
  return `This server is busy and asks for a proof of work (${p.bits} bits): your browser is computing it, ` +
    `about ${Math.round(p.expected).toLocaleString('en-US')} hashes, ~${seconds} s at ${Math.round(rate).toLocaleString('en-US')} hashes/s; ` +
    `${p.tried.toLocaleString('en-US')} tried so far. You can keep using this page.`;
}

async function send(body: SubmitRequest): Promise<Answer> {
  const res = await fetch('/v1/transactions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
  });
  return { status: res.status, ok: res.ok, body: await res.json() } as Answer;
}

function stored(status: number, answer: SubmitAnswer, txid: string): [readonly Row[], string] {
  const rows: Row[] = [
    ['id', answer.id],
    ['txid', txid],
    ['locktime', `${answer.locktime} (${answer.locktimeType})`, 'plain'],
    ['token', answer.token, 'hex secret'],
    ['receipt', answer.receipt],
  ];
  return [
    rows,
    status === 201
      ? 'Stored, sealed in this browser: the server cannot read it before it matures. Save the token now: it is the only way to cancel, and this page will not show it again.'
      : 'This exact sealed transaction was already stored. Save the token: it is the only way to cancel.',
  ];
}

/** Sends, with a stamp when the server asks; a refusal for want of one (the price rose meanwhile) pays the new price. */
async function sendStamped(sealed: SealedForm, result: HTMLElement): Promise<Answer> {
  let asked = 0;
  for (let round = 1; ; round++) {
    const stamp = await stampFor(sealed, asked, result);
    show(result, 'note', [], 'Sealed in this browser; sending…');
    const answer = await send(stamp === undefined ? sealed.body : { ...sealed.body, stamp });
    if (answer.ok || answer.body.error.code !== 'stamp_required' || round >= STAMP_ROUNDS) return answer;
    asked = bitsAsked(answer.body.error.message);
  }
}

async function submit(form: HTMLFormElement, result: HTMLElement): Promise<void> {
  const txField = byId('tx', HTMLTextAreaElement);
  const sealed = sealForm(form, txField.value, byId('window', HTMLInputElement).value.trim());
  const answer = await sendStamped(sealed, result);
  if (!answer.ok) return show(result, 'error', [['code', answer.body.error.code, 'plain']], `Refused: ${answer.body.error.message}`);
  txField.value = '';
  show(result, 'ok', ...stored(answer.status, answer.body, sealed.txid));
}

function start(): void {
  const form = byId('submit-form', HTMLFormElement);
  const result = byId('submit-result', HTMLDivElement);
  const button = form.querySelector('button')!;
  byId('sealing-nojs', HTMLParagraphElement).hidden = true;
  byId('sealing-js', HTMLParagraphElement).hidden = false;
  // With JavaScript on, the work the server asks for is done here: the warning for forms without it does not apply.
  document.getElementById('work-nojs')?.setAttribute('hidden', '');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    button.disabled = true;
    submit(form, result)
      .catch((err: unknown) => show(result, 'error', [], err instanceof Error ? err.message : String(err)))
      .finally(() => (button.disabled = false));
  });
}

start();
