// What the group commands print: one line per server in words, or JSON for scripts. Tokens appear
// only in JSON and when the receipts file could not be written (then they must be copied by hand).
import { overallStatus, type CancelReport, type GroupStatus, type GroupSubmission, type RenewResult, type ServerOutcome } from '../client/group.js';
import type { AuditFinding, Evidence } from '../client/group-audit.js';
import type { RecordStatus } from '../wire/answers.js';
import { ServerError } from '../client/errors/server-error.js';
import { UnreachableError } from '../client/errors/unreachable-error.js';
import { doneKey, type GroupView } from './group-file.js';

const STATUSES: ReadonlySet<string> = new Set(['pending', 'broadcasting', 'broadcast', 'confirmed', 'cancelled', 'invalid', 'rejected']);

function errorJson(err: Error): { name: string; message: string; code?: string } {
  return { name: err.name, message: err.message, ...(err instanceof ServerError ? { code: err.code } : {}) };
}

function outcomeJson(o: ServerOutcome): Record<string, unknown> {
  if (o.kind === 'failed') return { server: o.server, accepted: false, error: errorJson(o.error) };
  const { server, id, token, keyId, receipt, receiptKey, sealedSha256 } = o.member;
  return { server, accepted: true, id, token, keyId, receipt, receiptKey, sealedSha256 };
}

export function submissionJson(g: GroupSubmission, need: number, receiptsFile: string | null): string {
  const { id: group, txid, locktime, locktimeType } = g;
  const rungs = g.members[0]?.rungs;
  return JSON.stringify({ group, txid, locktime, locktimeType, ...(rungs ? { rungs } : {}), need, accepted: g.members.length, servers: g.outcomes.map(outcomeJson), receiptsFile }) + '\n';
}

export function submissionText(g: GroupSubmission, need: number, file: string, saveError: Error | null): string {
  const rows = g.outcomes.map((o) =>
    o.kind === 'accepted'
      ? `  accepted  ${o.server}  id ${o.member.id}  receipt verified${saveError ? `  token ${o.member.token}` : ''}`
      : `  FAILED    ${o.server}  ${o.error.message}`,
  );
  const n = g.members.length;
  const verdict =
    n >= need
      ? `${n} of ${g.outcomes.length} servers accepted it.`
      : `only ${n} of ${g.outcomes.length} servers accepted it, ${need} needed. The ${n} accepted stay armed; "relaystore cancel ${g.id}" withdraws them.`;
  const saved = saveError
    ? `the receipts file ${file} could not be written (${saveError.message}): copy the tokens above now, they are the only way to cancel.`
    : `saved to ${file} under group ${g.id}; the tokens there are the only way to cancel, keep them secret.`;
  const rungs = g.members[0]?.rungs;
  const head = `group ${g.id}  txid ${g.txid}${rungs ? ` (first of a ${rungs.length}-rung bundle)` : ''}  locktime ${g.locktime} (${g.locktimeType})`;
  return [head, ...rows, verdict, saved].join('\n') + '\n';
}

export interface StatusRow {
  readonly server: string;
  readonly id: string;
  readonly round: number;
  /** `current`, `superseded` (an older round not yet cancelled), or `renewal` (left by an unfinished renewal). */
  readonly role: 'current' | 'superseded' | 'renewal';
  readonly status: string;
  readonly record?: RecordStatus;
  readonly error?: Error;
}

export interface StatusShown {
  readonly group: string;
  readonly txid: string;
  readonly locktime: number;
  readonly overall: RecordStatus['status'] | null;
  readonly rows: readonly StatusRow[];
}

export function statusView(view: GroupView, st: GroupStatus): StatusShown {
  const answers = new Map(st.members.map((m) => [doneKey(m.member), m]));
  const row = (m: { server: string; id: string }, round: number): StatusRow => {
    const role = round === view.round ? 'current' : round < view.round ? 'superseded' : 'renewal';
    const a = answers.get(doneKey(m));
    if (a === undefined) return { server: m.server, id: m.id, round, role, status: view.done.get(doneKey(m)) ?? 'unknown' };
    if (a.kind === 'failed') return { server: m.server, id: m.id, round, role, status: 'unanswered', error: a.error };
    return { server: m.server, id: m.id, round, role, status: a.status.status, record: a.status };
  };
  const rows = [...view.current.map((m) => row(m, view.round)), ...view.leftovers.map((m) => row(m, m.round))];
  const current = rows.filter((r) => r.role === 'current' && STATUSES.has(r.status)).map((r) => r.status as RecordStatus['status']);
  const first = view.current[0]!;
  return { group: view.id, txid: first.txid, locktime: first.locktime, overall: overallStatus(current), rows };
}

function rowText(r: StatusRow): string {
  const parts = [`  ${r.server}  ${r.id}  ${r.status}`];
  if (r.role !== 'current') parts.push(r.role === 'superseded' ? `(round ${r.round}, superseded: not cancelled yet)` : `(round ${r.round}, from an unfinished renewal)`);
  if (r.record?.confirmations !== undefined) parts.push(`${r.record.confirmations} confirmation(s)`);
  if (r.record?.error) parts.push(`${r.record.error.code}: ${r.record.error.message}`);
  if (r.error) parts.push(r.error.message);
  return parts.join('  ');
}

export function statusText(s: StatusShown): string {
  const answered = s.rows.filter((r) => r.role === 'current' && r.status !== 'unanswered').length;
  const total = s.rows.filter((r) => r.role === 'current').length;
  return [`group ${s.group}  txid ${s.txid}  locktime ${s.locktime}`, ...s.rows.map(rowText), `overall: ${s.overall ?? 'unknown'} (${answered} of ${total} servers answered)`].join('\n') + '\n';
}

export function statusJson(s: StatusShown): string {
  const rows = s.rows.map(({ error, record, ...r }) => ({ ...r, ...(record ? { record } : {}), ...(error ? { error: errorJson(error) } : {}) }));
  return JSON.stringify({ group: s.group, txid: s.txid, locktime: s.locktime, overall: s.overall, servers: rows }) + '\n';
}

const CANCEL_WORDS: Record<string, string> = {
  cancelled: 'cancelled: wiped on that server, it will never be broadcast from there',
  already_broadcast: 'TOO LATE: it has already left that server',
  already_final: 'already final there (invalid): it will never be broadcast from there',
  not_found: 'not found on that server (nothing to cancel; "relaystore audit" tells whether it was dropped)',
};

export function cancelLines(report: CancelReport): string[] {
  return report.members.map((m) => `  ${m.member.server}  ${m.member.id}  ${m.kind === 'done' ? CANCEL_WORDS[m.result] : `NOT REACHED: ${m.error.message}`}`);
}

export function cancelText(group: string, report: CancelReport): string {
  const missed = report.members.filter((m) => m.kind === 'failed').length;
  const tail = report.complete ? `${group}: done on every server.` : `${group}: ${missed} server(s) could not be cancelled yet; run "relaystore cancel ${group}" again to finish.`;
  return [...cancelLines(report), tail].join('\n') + '\n';
}

function cancelRows(report: CancelReport): Array<Record<string, unknown>> {
  return report.members.map((m) => ({ server: m.member.server, id: m.member.id, ...(m.kind === 'done' ? { result: m.result } : { error: errorJson(m.error) }) }));
}

export function cancelJson(group: string, report: CancelReport): string {
  return JSON.stringify({ group, complete: report.complete, servers: cancelRows(report) }) + '\n';
}

function failureWord(err: Error): string {
  return err instanceof ServerError ? 'REFUSED' : err instanceof UnreachableError ? 'NOT REACHED' : 'FAILED';
}

export function renewText(group: string, r: RenewResult): string {
  if (r.kind === 'refused') {
    const refusals = r.outcomes.flatMap((o) => (o.kind === 'failed' ? [`  ${failureWord(o.error)}  ${o.server}  ${o.error.message}`] : []));
    const rollback = r.rolledBack.complete ? 'the new one was withdrawn where it had been accepted.' : `the new one could not be withdrawn everywhere yet (run the same renew again to finish it, or renew with another transaction):\n${cancelLines(r.rolledBack).join('\n')}`;
    return [`${group}: NOT renewed.`, ...refusals, `The old transaction stays armed on every server; ${rollback}`].join('\n') + '\n';
  }
  const head = `${group}: renewed. txid ${r.group.txid} (locktime ${r.group.locktime}) is armed on all ${r.group.members.length} servers; the old transaction:`;
  const tail = r.retired.complete ? 'done.' : `the old transaction is STILL ARMED where it could not be cancelled: run "relaystore renew ${group}" with the same transaction again to finish.`;
  return [head, ...cancelLines(r.retired), tail].join('\n') + '\n';
}

export function renewJson(group: string, r: RenewResult): string {
  if (r.kind === 'refused') return JSON.stringify({ group, renewed: false, servers: r.outcomes.map(outcomeJson), rolledBack: cancelRows(r.rolledBack) }) + '\n';
  return JSON.stringify({ group, renewed: true, txid: r.group.txid, locktime: r.group.locktime, servers: r.outcomes.map(outcomeJson), retired: cancelRows(r.retired), complete: r.retired.complete }) + '\n';
}

function evidenceText(e: Evidence): string[] {
  return [
    '    signed receipt (Ed25519; verify the signature over the message with the receipt key):',
    `      receipt key  ${e.receiptKey}`,
    `      message      ${JSON.stringify(e.message)}`,
    `      signature    ${e.signature}`,
    e.receiptKeyNow === null ? '    the server did not show its current receipt key' : e.receiptKeyNow === e.receiptKey ? '    the server still signs with that key' : `    the server now signs with ANOTHER key (${e.receiptKeyNow}): its data directory was lost or replaced`,
  ];
}

function findingText(f: AuditFinding): string[] {
  const where = `  ${f.member.server}  ${f.member.id}`;
  switch (f.kind) {
    case 'kept':
      return [`${where}  ok (${f.status.status})`];
    case 'gone':
      return [`${where}  unknown after maturity: confirmed and purged, or dropped; check txid ${f.member.txid} on the chain`];
    case 'failed':
      return [`${where}  not checked: ${f.error.message}`];
    case 'dropped':
      return [`${where}  MISBEHAVING: answers not_found for a record it signed a receipt for, whose locktime ${f.member.locktime} has not matured`, ...evidenceText(f.evidence)];
    case 'altered':
      return [`${where}  MISBEHAVING: reports locktime ${f.answered} for a record it signed a receipt for with locktime ${f.member.locktime}`, ...evidenceText(f.evidence)];
  }
}

export function auditText(findings: readonly AuditFinding[], file: string): string {
  if (findings.length === 0) return `nothing to audit: every receipt in ${file} is finished\n`;
  const bad = findings.filter((f) => f.kind === 'dropped' || f.kind === 'altered').length;
  const verdict = bad > 0 ? `${bad} record(s) broken by their server: the receipts above are the evidence.` : 'every server that answered keeps what it signed for.';
  return [...findings.flatMap(findingText), verdict].join('\n') + '\n';
}

export function auditJson(findings: readonly AuditFinding[]): string {
  return (
    findings
      .map((f) => {
        const base = { server: f.member.server, id: f.member.id, finding: f.kind };
        if (f.kind === 'kept') return JSON.stringify({ ...base, status: f.status.status });
        if (f.kind === 'failed') return JSON.stringify({ ...base, error: errorJson(f.error) });
        if (f.kind === 'gone') return JSON.stringify({ ...base, txid: f.member.txid });
        return JSON.stringify({ ...base, evidence: f.evidence, ...(f.kind === 'altered' ? { answered: f.answered } : {}) });
      })
      .join('\n') + (findings.length ? '\n' : '')
  );
}
