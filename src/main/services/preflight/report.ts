import { TetherError } from '#contract/errors';
import { type CheckRow, type PreflightReport, PreflightReportSchema, REPORT_FORMAT, REPORT_VERSION } from '#contract/preflight';
import { describeHostMapEntry } from './host-map.ts';
import type { PreflightRun } from './run.ts';
import { judgeProduct, judgeRows } from './verdict.ts';

/**
 * The pre-flight report: one versioned JSON document (what the console exports and the
 * CLI prints with --json; its schema is in contract/preflight.ts), and a plain-text
 * rendering for a terminal. The printable HTML is in report-html.ts. No Node imports.
 */

/** Judges a run and packs it as the report. `now` decides certificate expiry warnings. */
export function buildReport(run: PreflightRun, generatorVersion: string, now: number = Date.now()): PreflightReport {
  const verdicts = judgeRows(run.rows, now);
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    generator: { name: 'tether-preflight', version: generatorVersion },
    profile: run.profile,
    settings: {
      proxy: run.settings.proxyUrl,
      proxyCredentials: run.settings.proxyCredentials,
      hostMap: run.settings.hostMap.map(describeHostMapEntry),
      timeoutMs: run.settings.timeoutMs,
      concurrency: run.settings.concurrency,
    },
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    verdict: judgeProduct(run.profile.name, verdicts),
    rows: run.rows.map((row, i) => ({ ...row, verdict: verdicts[i] ?? { level: 'not-run', reason: null } })),
  };
}

/** Reads a report back (an exported file), refusing anything that is not one. */
export function parseReport(value: unknown): PreflightReport {
  const parsed = PreflightReportSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(report)'}: ${i.message}`);
  throw new TetherError('VALIDATION_FAILED', `not a pre-flight report (format ${REPORT_FORMAT} v${REPORT_VERSION}) — ${problems.join('; ')}`);
}

/** Exit status for scripts: 0 ready, 1 ready with warnings, 2 blocked (or not finished). */
export function reportExitCode(report: PreflightReport): 0 | 1 | 2 {
  switch (report.verdict.status) {
    case 'ready':
      return 0;
    case 'ready-with-warnings':
      return 1;
    case 'blocked':
    case 'incomplete':
      return 2;
  }
}

const fmtMs = (value: number): string => `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;

/** The facts of a row in one line: where it went, how long each step took, what answered. */
export function rowFacts(row: CheckRow): string {
  const parts: string[] = [];
  const dns = row.dns;
  if (dns?.kind === 'mapped') parts.push(`mapped to ${dns.address.includes(':') ? `[${dns.address}]` : dns.address}:${dns.port}`);
  else if (dns?.kind === 'resolved') parts.push(`DNS ${dns.addresses.slice(0, 3).join(' ')} (${fmtMs(dns.ms)})`);
  else if (dns?.kind === 'via-proxy') parts.push('resolved by the proxy');
  else if (dns?.kind === 'failed') parts.push(`DNS failed (${fmtMs(dns.ms)})`);
  if (row.proxy) parts.push(`proxy CONNECT ${row.proxy.connectTarget}${row.proxy.status !== null ? ` → ${row.proxy.status}` : ''}`);
  if (row.tcp) parts.push(`TCP ${fmtMs(row.tcp.ms)}`);
  if (row.tls) {
    const issuer = row.tls.chain[0]?.issuer ?? '';
    parts.push(`${row.tls.protocol ?? 'TLS'} ${row.tls.cipher ?? ''} (${fmtMs(row.tls.ms)})`.replace(/ {2,}/g, ' '));
    parts.push(`issuer ${issuer}`, `expires ${row.tls.leafExpiresAt?.slice(0, 10) ?? '?'}`);
  }
  if (row.http) parts.push(`HTTP ${row.http.status}${row.http.server ? ` (${row.http.server})` : ''} (${fmtMs(row.http.ms)})`);
  if (row.problem && row.problem.kind !== 'canceled') parts.push(`${row.problem.step}: ${row.problem.detail}`);
  return parts.join(' · ');
}

const LEVEL_LABELS = { ok: 'OK', warning: 'WARN', blocked: 'BLOCKED', 'not-run': 'NOT RUN' } as const;

/** The report for a terminal: verdict and reasons first, then one line per check. */
export function reportToText(report: PreflightReport): string {
  const lines: string[] = [];
  lines.push(`Tether network pre-flight — ${report.profile.name}`);
  lines.push(
    `${report.startedAt} · ${report.settings.proxy ? `via proxy ${report.settings.proxy}${report.settings.proxyCredentials ? ' (with credentials)' : ''}` : 'direct (no proxy)'} · ${report.rows.length} checks · ${report.settings.timeoutMs} ms per check`,
  );
  if (report.settings.hostMap.length > 0) lines.push(`Host mapping: ${report.settings.hostMap.join(', ')}`);
  lines.push('', `VERDICT: ${report.verdict.headline}`);
  for (const reason of report.verdict.reasons) lines.push(`  - ${reason}`);
  lines.push('');
  const hostWidth = Math.max(4, ...report.rows.map((r) => r.host.length));
  lines.push(`${'HOST'.padEnd(hostWidth)}  PORT   RESULT   DETAILS`);
  for (const row of report.rows) {
    lines.push(`${row.host.padEnd(hostWidth)}  ${String(row.port).padEnd(5)}  ${LEVEL_LABELS[row.verdict.level].padEnd(7)}  ${rowFacts(row)}`);
  }
  return `${lines.join('\n')}\n`;
}
