import type { IpcOutput, PreflightProgress } from '#contract/ipc';
import type { CheckRow, ProductVerdict, ProbeProtocol, RowVerdict } from '#contract/preflight';

/**
 * The Pre-flight table as pure data: one row per host and port, filled as main reports
 * each check, then replaced by the report's final verdicts (a preferred port's level
 * may change once its fallback is known). Events of another run are ignored.
 */

export type PreflightRowStatus = 'waiting' | 'checking' | 'done';

export interface PreflightRowView {
  host: string;
  port: number;
  protocol: ProbeProtocol;
  status: PreflightRowStatus;
  row: CheckRow | null;
  verdict: RowVerdict | null;
}

export type PreflightRunPhase = 'running' | 'canceling' | 'finished' | 'canceled' | 'failed';

export interface PreflightRunView {
  runId: string;
  profileName: string;
  phase: PreflightRunPhase;
  rows: PreflightRowView[];
  verdict: ProductVerdict | null;
  /** Why the run could not finish (phase `failed`). */
  error: string | null;
}

/** A run main has just accepted: every row waiting. */
export function startedRun(profileName: string, started: IpcOutput<'preflight.run'>): PreflightRunView {
  return {
    runId: started.runId,
    profileName,
    phase: 'running',
    rows: started.targets.map((t) => ({ ...t, status: 'waiting', row: null, verdict: null })),
    verdict: null,
    error: null,
  };
}

function replaceRow(rows: PreflightRowView[], index: number, change: Partial<PreflightRowView>): PreflightRowView[] {
  return rows.map((row, i) => (i === index ? { ...row, ...change } : row));
}

/** The run after one progress event. */
export function applyProgress(run: PreflightRunView, event: PreflightProgress): PreflightRunView {
  if (event.runId !== run.runId) return run;
  switch (event.kind) {
    case 'check-started':
      return run.rows[event.index]?.status === 'waiting' ? { ...run, rows: replaceRow(run.rows, event.index, { status: 'checking' }) } : run;
    case 'check-finished':
      return { ...run, rows: replaceRow(run.rows, event.index, { status: 'done', row: event.row, verdict: event.verdict }) };
    case 'finished':
      return {
        ...run,
        phase: event.canceled ? 'canceled' : 'finished',
        verdict: event.report.verdict,
        rows: event.report.rows.map(({ verdict, ...row }) => ({ host: row.host, port: row.port, protocol: row.protocol, status: 'done', row, verdict })),
      };
    case 'failed':
      return { ...run, phase: 'failed', error: event.message };
  }
}

/** True while main is still checking (Run is disabled, Cancel shown). */
export function isRunActive(run: PreflightRunView | null): boolean {
  return run !== null && (run.phase === 'running' || run.phase === 'canceling');
}

/** How far along: rows done of all rows. */
export function runProgress(run: PreflightRunView): { done: number; total: number } {
  return { done: run.rows.filter((r) => r.status === 'done').length, total: run.rows.length };
}

/** What the result column says for a row. */
export function rowResultLabel(view: PreflightRowView): string {
  if (view.status === 'waiting') return 'Waiting';
  if (view.status === 'checking') return 'Checking…';
  switch (view.verdict?.level) {
    case 'ok':
      return 'OK';
    case 'warning':
      return 'Warning';
    case 'blocked':
      return 'Blocked';
    default:
      return 'Not checked';
  }
}

const ms = (value: number): string => `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;

/** The DNS cell: where the name went. */
export function dnsCell(row: CheckRow | null): string {
  const dns = row?.dns;
  switch (dns?.kind) {
    case undefined:
      return '—';
    case 'mapped':
      return `mapped → ${dns.address}:${dns.port}`;
    case 'resolved':
      return `${dns.addresses.slice(0, 2).join(', ')} (${ms(dns.ms)})`;
    case 'literal':
      return 'IP address';
    case 'via-proxy':
      return 'by the proxy';
    case 'failed':
      return `failed (${ms(dns.ms)})`;
  }
}

/** The TCP cell: connect time, or the step that failed there. */
export function tcpCell(row: CheckRow | null): string {
  if (!row) return '—';
  if (row.tcp) return ms(row.tcp.ms);
  if (row.problem && (row.problem.step === 'tcp' || row.problem.step === 'proxy')) return row.problem.kind === 'tcp-refused' ? 'refused' : row.problem.kind.replace(/^(tcp|proxy)-/, '');
  return '—';
}

/** The TLS/HTTP cell: protocol and time, an HTTP status, or what failed. */
export function sessionCell(row: CheckRow | null): string {
  if (!row) return '—';
  if (row.tls) return `${row.tls.protocol ?? 'TLS'} (${ms(row.tls.ms)})${row.tls.trusted ? '' : ' · untrusted'}`;
  if (row.http) return `HTTP ${row.http.status} (${ms(row.http.ms)})`;
  if (row.problem && (row.problem.step === 'tls' || row.problem.step === 'http')) return row.problem.kind;
  return '—';
}
