import type { CheckRow, ProblemKind, ProductStatus, ProductVerdict, RowLevel, RowVerdict } from '#contract/preflight';
import { PRODUCT_STATUS_LABELS } from '#contract/preflight';

/**
 * What the checks mean for the product, in lines a hospital's IT manager can act on.
 * Pure: the rows in, the verdict out. A failed row blocks when the product needs that
 * port; it only warns when the product has a way around it (17001/17002 fall back to
 * 443 on the same host; 80/8080 are optional). No Node imports.
 */

/** A certificate this close to its end is worth a warning before it becomes an outage. */
export const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 24 * 3600 * 1000;

const day = (iso: string): string => iso.slice(0, 10);

/** Where a row went, as a sentence names it: `on port 17001` unless it is the usual 443. */
function onPort(row: CheckRow): string {
  return row.port === 443 ? '' : ` on port ${row.port}`;
}

/** The cause of a failed row, and the advice when the product cannot do without it. */
function describeFailure(row: CheckRow): { cause: string; advice: string } {
  const p = row.problem;
  const { host, port } = row;
  const proxy = row.proxy?.url ?? 'the proxy';
  const reach = 'the device cannot reach the service';
  switch (p?.kind) {
    case 'dns-failed':
      return { cause: `${host} does not resolve in this network's DNS`, advice: 'the device cannot find the service; allow DNS lookups of this name or configure the proxy' };
    case 'dns-timeout':
      return { cause: `DNS gives no answer for ${host}`, advice: 'the device cannot find the service; check the DNS servers this network hands out' };
    case 'proxy-unreachable':
      return { cause: `The proxy ${proxy} cannot be reached (${p.code === 'ECONNREFUSED' ? 'connection refused' : p.code === 'ETIMEDOUT' ? 'no answer' : p.detail})`, advice: 'nothing gets out through it; check the proxy address and port' };
    case 'proxy-timeout':
      return { cause: `The proxy ${proxy} does not answer for ${host}:${port} in time`, advice: `the proxy may be unable to reach ${host}; check its outbound rules for port ${port}` };
    case 'proxy-closed':
      return { cause: `The proxy ${proxy} drops the connection to ${host}:${port} without an answer`, advice: `allow CONNECT to ${host}:${port} in the proxy` };
    case 'proxy-auth-required':
      return { cause: `The proxy ${proxy} wants credentials (407)`, advice: 'enter the proxy user name and password' };
    case 'proxy-refused':
      return { cause: `The proxy ${proxy} refuses ${host}:${port}${p.status !== null ? ` (${p.status})` : ''}`, advice: `allow CONNECT to ${host}:${port} in the proxy` };
    case 'proxy-target-failed':
      return { cause: `The proxy ${proxy} cannot reach ${host}:${port} (${p.status ?? 'error'})`, advice: `outbound TCP ${port} from the proxy is blocked; allow it` };
    case 'tcp-refused':
      return { cause: `Outbound TCP ${port} to ${host} is blocked (connection refused)`, advice: reach };
    case 'tcp-timeout':
      return { cause: `Outbound TCP ${port} to ${host} is blocked (no answer; packets are dropped)`, advice: reach };
    case 'tcp-unreachable':
      return { cause: `Outbound TCP ${port} to ${host} is blocked (no route to the host)`, advice: reach };
    case 'tcp-failed':
      return { cause: `Outbound TCP ${port} to ${host} fails (${p.detail})`, advice: reach };
    case 'tls-timeout':
      return { cause: `TLS to ${host}${onPort(row)} gets no answer (the connection opens but the handshake is never answered)`, advice: 'a firewall or inspection device is holding it; allow TLS to this host' };
    case 'tls-failed':
      return { cause: `TLS to ${host}${onPort(row)} fails (${p.detail})`, advice: 'a firewall or inspection device may be interfering; allow TLS to this host' };
    case 'unexpected-issuer':
      return {
        cause: `TLS to ${host}${onPort(row)} is intercepted (issuer: ${row.tls?.untrustedIssuer ?? 'unknown'})`,
        advice: 'the device will refuse it; exempt this host from inspection',
      };
    case 'cert-expired':
      return { cause: `Certificate of ${host}${onPort(row)} expired on ${day(row.tls?.leafExpiresAt ?? '')}`, advice: 'the device will refuse it' };
    case 'cert-not-yet-valid':
      return { cause: `Certificate of ${host}${onPort(row)} is not valid yet`, advice: "the device will refuse it; check this computer's clock" };
    case 'name-mismatch':
      return {
        cause: `Name does not match the certificate: ${host}${onPort(row)} presented one for ${row.tls?.leafNames.slice(0, 3).join(', ') || 'another name'}`,
        advice: 'the device will refuse it; something between answers in its place',
      };
    case 'http-timeout':
      return { cause: `HTTP on port ${port} to ${host} gets no answer (the connection opens but nothing replies)`, advice: reach };
    case 'http-failed':
      return { cause: `HTTP on port ${port} to ${host} fails (${p.detail})`, advice: reach };
    case 'canceled':
    case undefined:
      return { cause: `${host}:${port} was not checked`, advice: 'run the check again' };
  }
}

function sameHost(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

const HOST_WIDE: ReadonlySet<ProblemKind> = new Set(['dns-failed', 'dns-timeout', 'proxy-unreachable', 'proxy-auth-required']);

function fallbackRow(row: CheckRow, rows: readonly CheckRow[]): CheckRow | undefined {
  return row.need === 'preferred' && row.fallbackPort !== null ? rows.find((r) => sameHost(r.host, row.host) && r.port === row.fallbackPort) : undefined;
}

/** A failed row warns when the product can do without it, and blocks otherwise. */
function failedRowLevel(row: CheckRow, rows: readonly CheckRow[]): 'warning' | 'blocked' {
  if (row.need === 'optional') return 'warning';
  const fallback = fallbackRow(row, rows);
  return fallback && !fallback.problem ? 'warning' : 'blocked';
}

/** Each row's level and line; a preferred port's level depends on its fallback's row. */
export function judgeRows(rows: readonly CheckRow[], now: number = Date.now()): RowVerdict[] {
  return rows.map((row) => {
    if (!row.problem) {
      const expires = row.tls?.leafExpiresAt ? Date.parse(row.tls.leafExpiresAt) : Number.NaN;
      const daysLeft = Math.floor((expires - now) / DAY_MS);
      if (daysLeft < EXPIRY_WARNING_DAYS) {
        return { level: 'warning', reason: `Certificate of ${row.host}${onPort(row)} expires on ${day(row.tls?.leafExpiresAt ?? '')} (in ${daysLeft} days) — renew it before then` };
      }
      return { level: 'ok', reason: null };
    }
    if (row.problem.kind === 'canceled') return { level: 'not-run', reason: `Not checked: ${row.host}:${row.port} — the run was canceled` };
    const { cause, advice } = describeFailure(row);
    const severity = failedRowLevel(row, rows);
    // a name that does not resolve, or a proxy that turns everything away, is one line however many ports it hits
    if (HOST_WIDE.has(row.problem.kind)) return { level: severity, reason: `${cause} — ${advice}` };
    if (row.need === 'optional') return { level: severity, reason: `${cause} — optional; the device works without it` };
    const fallback = fallbackRow(row, rows);
    if (fallback && severity === 'warning') return { level: severity, reason: `${cause} — remote sessions will fall back to ${row.fallbackPort}` };
    if (fallback) return { level: severity, reason: `${cause} — and ${row.fallbackPort} fails too, so remote sessions cannot connect` };
    return { level: severity, reason: `${cause} — ${advice}` };
  });
}

/** The product's verdict over its rows' verdicts. */
export function judgeProduct(productName: string, verdicts: readonly RowVerdict[]): ProductVerdict {
  const counts = { ok: 0, warning: 0, blocked: 0, notRun: 0 };
  for (const v of verdicts) {
    if (v.level === 'not-run') counts.notRun += 1;
    else counts[v.level] += 1;
  }
  const status: ProductStatus = counts.blocked > 0 ? 'blocked' : counts.notRun > 0 ? 'incomplete' : counts.warning > 0 ? 'ready-with-warnings' : 'ready';
  const lines = (level: RowLevel) => verdicts.filter((v) => v.level === level).map((v) => v.reason ?? '');
  const reasons = [...new Set([...lines('blocked'), ...lines('not-run'), ...lines('warning')].filter(Boolean))];
  const detail =
    status === 'ready'
      ? `all ${verdicts.length} checks passed`
      : [counts.blocked && `${counts.blocked} blocking`, counts.notRun && `${counts.notRun} not checked`, counts.warning && `${counts.warning} ${counts.warning === 1 ? 'warning' : 'warnings'}`].filter(Boolean).join(', ');
  return { status, headline: `${productName}: ${PRODUCT_STATUS_LABELS[status]} (${detail})`, reasons, counts };
}
