import { describe, expect, it } from 'vitest';
import { parseHostMap } from '../../../src/main/services/preflight/host-map.ts';
import { PROFILE_FORMAT, type PreflightProfile } from '#contract/preflight';
import { buildReport, parseReport, reportExitCode, reportToText } from '../../../src/main/services/preflight/report.ts';
import { reportToHtml } from '../../../src/main/services/preflight/report-html.ts';
import type { PreflightRun } from '../../../src/main/services/preflight/run.ts';
import { row, tlsFacts } from './fixtures.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');

const profile: PreflightProfile = {
  format: PROFILE_FORMAT,
  version: 1,
  id: 'clinic',
  name: 'Clinic <Imaging> & "Co"',
  targets: [
    { host: 'medrad.axeda.com', port: 443 },
    { host: 'medrad.axeda.com', port: 17001 },
    { host: 'supportserver.radimetrics.com', port: 443 },
    { host: 'supportserver.radimetrics.com', port: 80 },
  ],
};

function run(rows = [
  row('medrad.axeda.com', 443),
  row('medrad.axeda.com', 17001, 'tcp-refused'),
  row('supportserver.radimetrics.com', 443, 'unexpected-issuer', { tls: tlsFacts({ trusted: false, untrustedIssuer: '<script>alert(1)</script>' }) }),
  row('supportserver.radimetrics.com', 80),
]): PreflightRun {
  return {
    profile,
    settings: { proxyUrl: 'http://proxy.example:3128', proxyCredentials: true, hostMap: parseHostMap('medrad.axeda.com=127.0.0.1'), timeoutMs: 5000, concurrency: 8 },
    startedAt: '2026-03-01T12:00:00.000Z',
    finishedAt: '2026-03-01T12:00:01.000Z',
    rows,
    canceled: false,
  };
}

describe('pre-flight report', () => {
  it('is a versioned JSON document that reads back through its schema', () => {
    const report = buildReport(run(), '1.2.3', NOW);
    expect(report).toMatchObject({ format: 'tether.preflight-report', version: 1, generator: { name: 'tether-preflight', version: '1.2.3' } });
    expect(report.settings).toEqual({ proxy: 'http://proxy.example:3128', proxyCredentials: true, hostMap: ['medrad.axeda.com → 127.0.0.1'], timeoutMs: 5000, concurrency: 8 });
    expect(report.verdict.status).toBe('blocked');
    expect(report.rows.map((r) => r.verdict.level)).toEqual(['ok', 'warning', 'blocked', 'ok']);
    expect(parseReport(JSON.parse(JSON.stringify(report)))).toEqual(report);
  });

  it('refuses a document that is not a report', () => {
    const report = buildReport(run(), '1.2.3', NOW);
    expect(() => parseReport({ ...report, version: 2 })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => parseReport({ hello: 'world' })).toThrow(/not a pre-flight report/);
  });

  it('maps the verdict to exit codes 0, 1 and 2', () => {
    expect(reportExitCode(buildReport(run([row('medrad.axeda.com', 443)]), 'v', NOW))).toBe(0);
    expect(reportExitCode(buildReport(run([row('medrad.axeda.com', 443), row('medrad.axeda.com', 17001, 'tcp-refused')]), 'v', NOW))).toBe(1);
    expect(reportExitCode(buildReport(run(), 'v', NOW))).toBe(2);
  });

  it('as text: the verdict and its reasons first, then one line per check', () => {
    const text = reportToText(buildReport(run(), '1.2.3', NOW));
    const lines = text.split('\n');
    expect(lines[0]).toBe('Tether network pre-flight — Clinic <Imaging> & "Co"');
    expect(text).toContain('via proxy http://proxy.example:3128 (with credentials)');
    expect(text).toContain('VERDICT: Clinic <Imaging> & "Co": blocked (1 blocking, 1 warning)');
    expect(text).toContain('  - Outbound TCP 17001 to medrad.axeda.com is blocked (connection refused) — remote sessions will fall back to 443');
    expect(lines.filter((l) => /^(medrad\.axeda\.com|supportserver\.radimetrics\.com) +\d+ +(OK|WARN|BLOCKED) /.test(l))).toHaveLength(4);
    expect(text).toContain('mapped to 127.0.0.1:443');
  });

  it('as HTML: every row, escaped, with nothing to fetch and no script', () => {
    const html = reportToHtml(buildReport(run(), '1.2.3', NOW));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('Clinic &lt;Imaging&gt; &amp; &quot;Co&quot;');
    expect(html).toContain('issuer: &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|url\(|@import|src=/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html.match(/<tr><td>/g)).toHaveLength(4);
    for (const [host, port] of [['medrad.axeda.com', 443], ['medrad.axeda.com', 17001], ['supportserver.radimetrics.com', 443], ['supportserver.radimetrics.com', 80]] as const) {
      expect(html).toMatch(new RegExp(`<td>${host.replace(/\./g, '\\.')}</td><td>${port}</td>`));
    }
    expect(html).toContain('Verdict: blocked');
  });
});
