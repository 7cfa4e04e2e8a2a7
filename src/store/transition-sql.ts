// Transitions as SQL: each optional field's column, and a batch's transitions as few UPDATE statements
// (one per shape of change, a VALUES row per record) instead of one round trip to SQLite each.
import type { Param } from './sqlite.js';
import type { Transition } from './store.js';

type Encode = (t: Transition) => Param | undefined;
const json = (v: unknown): string | null => (v === null ? null : JSON.stringify(v));

/** Each optional field of a transition: its column, and how it is stored (undefined leaves it as it is). */
export const TRANSITION_COLUMNS: ReadonlyArray<readonly [string, Encode]> = [
  ['txid', (t) => (t.txid === undefined ? undefined : Buffer.from(t.txid, 'hex'))],
  ['attempts', (t) => t.attempts],
  ['broadcast_at', (t) => t.broadcastAt],
  ['confirmations', (t) => t.confirmations],
  ['error_code', (t) => t.errorCode],
  ['hold_height', (t) => t.holdHeight],
  ['rungs', (t) => t.rungs],
  ['rung', (t) => t.rung],
  ['fee_rate', (t) => t.feeRate],
  ['txids', (t) => (t.txids === undefined ? undefined : json(t.txids))],
  ['sent_height', (t) => t.sentHeight],
  ['sent', (t) => (t.sent === undefined ? undefined : json(t.sent))],
];

/** The optional columns a transition sets, and their values. */
export function setColumns(t: Transition): { readonly columns: string[]; readonly values: Param[] } {
  const columns: string[] = [];
  const values: Param[] = [];
  for (const [column, encode] of TRANSITION_COLUMNS) {
    const value = encode(t);
    if (value !== undefined) (columns.push(column), values.push(value));
  }
  return { columns, values };
}

/**
 * A batch in rounds: a record's first transition in the first, its second in the next, and so on.
 * Within a round every record appears once, so its statements may run in any order.
 */
export function rounds(transitions: readonly Transition[]): Transition[][] {
  const seen = new Map<string, number>();
  const out: Transition[][] = [];
  for (const t of transitions) {
    const k = seen.get(t.id) ?? 0;
    seen.set(t.id, k + 1);
    (out[k] ??= []).push(t);
  }
  return out;
}

export interface Statement {
  readonly sql: string;
  readonly params: Param[];
}

/** Most records in one statement: each binds 3 values, up to 12 set columns and its from states, far below SQLite's 32,766 in all. */
const MAX_ROWS = 256;

/**
 * The statements that apply `round` (no wipes; records all distinct): one per shape (which columns
 * change, how many states it may come from), each RETURNING the ids it changed. Rows are padded to a
 * power of two with rows that name no record, so that few distinct statements are ever prepared.
 */
export function groupedUpdates(round: readonly Transition[]): Statement[] {
  const shapes = new Map<string, Shape>();
  for (const t of round) {
    const { columns, values } = setColumns(t);
    const key = `${t.from.length}:${columns.join(',')}`;
    const row = [Buffer.from(t.id, 'hex'), t.to, t.wake, ...values, ...t.from];
    const shape = shapes.get(key);
    if (shape) shape.rows.push(row);
    else shapes.set(key, { columns, states: t.from.length, rows: [row] });
  }
  const out: Statement[] = [];
  for (const { columns, states, rows } of shapes.values()) {
    for (let i = 0; i < rows.length; i += MAX_ROWS) out.push(groupedUpdate(columns, states, rows.slice(i, i + MAX_ROWS)));
  }
  return out;
}

/** Transitions that set the same columns from as many states: each one's row of values, made once. */
interface Shape {
  readonly columns: readonly string[];
  readonly states: number;
  readonly rows: Param[][];
}

/** Rows of (id, to, wake, the set columns' values…, the from states…), columns 1, 2, 3… of `v`. */
function groupedUpdate(columns: readonly string[], states: number, group: readonly Param[][]): Statement {
  const width = 3 + columns.length + states;
  const rows = 2 ** Math.ceil(Math.log2(group.length));
  const params: Param[] = group.flat();
  for (let i = group.length * width; i < rows * width; i++) params.push(null);
  const sets = ['state = v.column2', 'wake = v.column3', ...columns.map((c, k) => `${c} = v.column${4 + k}`)];
  const from = Array.from({ length: states }, (_, k) => `v.column${4 + columns.length + k}`);
  const row = `(${Array.from({ length: width }, () => '?').join(',')})`;
  const values = Array.from({ length: rows }, () => row).join(',');
  return {
    sql: `UPDATE records SET ${sets.join(', ')} FROM (VALUES ${values}) AS v WHERE records.id = v.column1 AND records.state IN (${from.join(', ')}) RETURNING records.id`,
    params,
  };
}
