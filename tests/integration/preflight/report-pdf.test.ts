import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { type Browser, type Page, chromium } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertifiedKey } from '../../../server/pki/certificates.ts';
import { parseHostMap } from '../../../src/main/services/preflight/host-map.ts';
import { RADIMETRICS_PROFILE } from '../../../src/main/services/preflight/profiles.ts';
import { buildReport, parseReport, rowFacts } from '../../../src/main/services/preflight/report.ts';
import { REPORT_PDF_OPTIONS, reportToHtml } from '../../../src/main/services/preflight/report-html.ts';
import { runPreflight } from '../../../src/main/services/preflight/run.ts';
import { PRODUCT_STATUS_LABELS, type PreflightReport } from '#contract/preflight';
import { CHROMIUM_ARGS, chromiumPath } from '../../e2e/chromium.ts';
import { freePort } from '../../helpers/ports.ts';
import { REPO_ROOT } from '../../helpers/processes.ts';
import {
  type LoopbackListener,
  createCertificateAuthority,
  issueCertificate,
  startHttpListener,
  startSilentListener,
  startTlsListener,
} from '../../helpers/tls-targets.ts';

/**
 * The pre-flight report as the IT manager receives it: a real run on loopback (every seed
 * name mapped, so nothing outside is asked), printed to PDF by Chromium — the engine behind
 * Electron's printToPDF — with the page options the Electron adapter passes, then read back
 * with pdf.js. The JSON export is read back with the report's own parser.
 */

const DAY_MS = 24 * 3600 * 1000;
const SEED_NAMES = [...new Set(RADIMETRICS_PROFILE.targets.map((t) => t.host))];
const LEVEL_LABELS = { ok: 'OK', warning: 'Warning', blocked: 'Blocked', 'not-run': 'Not checked' } as const;
const SCREENSHOT = join(REPO_ROOT, 'docs/screenshots/preflight-report-pdf.png');

/** REPORT_PDF_OPTIONS (Electron's printToPDF terms, margins in inches) in Playwright's terms. */
function playwrightPdfOptions(): Parameters<Page['pdf']>[0] {
  const inches = (value: number) => `${value}in`;
  const { margins } = REPORT_PDF_OPTIONS;
  return {
    format: REPORT_PDF_OPTIONS.pageSize,
    printBackground: REPORT_PDF_OPTIONS.printBackground,
    preferCSSPageSize: REPORT_PDF_OPTIONS.preferCSSPageSize,
    margin: { top: inches(margins.top), bottom: inches(margins.bottom), left: inches(margins.left), right: inches(margins.right) },
  };
}

/** Every page's text, in order. Table cells wrap, so callers compare with whitespace removed. */
async function pdfText(pdf: Uint8Array): Promise<{ pages: number; text: string }> {
  const document = await getDocument({ data: pdf, useSystemFonts: false, isEvalSupported: false }).promise;
  const parts: string[] = [];
  for (let n = 1; n <= document.numPages; n += 1) {
    const content = await (await document.getPage(n)).getTextContent();
    for (const item of content.items) if ('str' in item) parts.push(item.str);
  }
  await document.destroy();
  return { pages: document.numPages, text: parts.join('') };
}

const squeeze = (text: string): string => text.replace(/\s+/g, '');

describe('the pre-flight report printed to PDF', () => {
  let browser: Browser;
  let listeners: LoopbackListener[];
  let report: PreflightReport;

  beforeAll(async () => {
    const trustedCa: CertifiedKey = await createCertificateAuthority('Tether Test Root');
    const inspectionCa = await createCertificateAuthority('Hospital Proxy CA');
    const good = await startTlsListener(await issueCertificate(trustedCa, SEED_NAMES));
    const expired = await startTlsListener(await issueCertificate(trustedCa, SEED_NAMES, { notBefore: new Date(Date.now() - 400 * DAY_MS), notAfter: new Date(Date.now() - 30 * DAY_MS) }));
    const wrongHost = await startTlsListener(await issueCertificate(trustedCa, ['portal.hospital.example']));
    const foreignCa = await startTlsListener(await issueCertificate(inspectionCa, SEED_NAMES), [inspectionCa.certPem]);
    const silent = await startSilentListener();
    const web = await startHttpListener(200, 'test-web/1.0');
    listeners = [good, expired, wrongHost, foreignCa, silent, web];
    const closed = await freePort();
    const exceptions: Record<string, number> = {
      'supportserver.radimetrics.com:443': foreignCa.port,
      'supportserver.radimetrics.com:8080': closed,
      'uksupportserver.radimetrics.com:443': expired.port,
      'medrad.axeda.com:17001': closed,
      'ghsom1.axeda.com:443': wrongHost.port,
      'ghjap1.axeda.com:443': silent.port,
      'ghuk1.axeda.com:443': closed,
    };
    const hostMap = parseHostMap(
      RADIMETRICS_PROFILE.targets.map((t) => `${t.host}:${t.port}=127.0.0.1:${exceptions[`${t.host}:${t.port}`] ?? (t.port === 80 || t.port === 8080 ? web.port : good.port)}`),
    );
    // short, so the listener that never answers does not hold the run up
    const run = await runPreflight({ profile: RADIMETRICS_PROFILE, hostMap, trustedCaPems: [trustedCa.certPem], timeoutMs: 1000 });
    report = buildReport(run, 'test');
    browser = await chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS] });
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all((listeners ?? []).map((l) => l.close()));
  });

  it('the run staged every outcome the report must carry', () => {
    const kinds = new Set(report.rows.map((r) => r.problem?.kind ?? 'ok'));
    expect([...kinds].sort()).toEqual(['cert-expired', 'name-mismatch', 'ok', 'tcp-refused', 'tls-timeout', 'unexpected-issuer'].sort());
    expect(report.verdict.status).toBe('blocked');
    expect(report.verdict.counts).toEqual({ ok: 19, warning: 2, blocked: 5, notRun: 0 });
  });

  it('the PDF, printed as the Electron adapter prints it, names every row with its outcome and the verdict', async () => {
    // as the adapter's hidden window: JavaScript off (the report needs none)
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.setContent(reportToHtml(report), { waitUntil: 'load' });
    const pdf = await page.pdf(playwrightPdfOptions());
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const { pages, text } = await pdfText(new Uint8Array(pdf));
    expect(pages).toBeGreaterThanOrEqual(1);
    const printed = squeeze(text);
    expect(printed).toContain(squeeze(`Network pre-flight — ${RADIMETRICS_PROFILE.name}`));
    expect(printed).toContain(squeeze(`Verdict: ${PRODUCT_STATUS_LABELS[report.verdict.status]}`));
    expect(printed).toContain(squeeze(report.verdict.headline));
    for (const reason of report.verdict.reasons) expect(printed).toContain(squeeze(reason));
    // the mapping is part of what the reader must know: these were not the real hosts
    for (const entry of report.settings.hostMap) expect(printed).toContain(squeeze(entry));

    expect(report.rows).toHaveLength(RADIMETRICS_PROFILE.targets.length);
    for (const row of report.rows) {
      // one table row, in the order its cells print: host, port, check, result, reason, facts
      const line = `${row.host}${row.port}${row.protocol.toUpperCase()}${LEVEL_LABELS[row.verdict.level]}${row.verdict.reason ?? ''}${rowFacts(row)}`;
      expect(printed, `${row.host}:${row.port}`).toContain(squeeze(line));
    }
    // the problem behind each failed row is in print too, not only its one-line reason
    for (const row of report.rows.filter((r) => r.problem)) expect(printed).toContain(squeeze(row.problem?.detail ?? ''));

    // the first printed page as a picture, for the docs: the HTML at the PDF's content width, as printed
    await page.emulateMedia({ media: 'print' });
    const px = (inches: number) => Math.round(inches * 96);
    const width = px(8.27 - REPORT_PDF_OPTIONS.margins.left - REPORT_PDF_OPTIONS.margins.right);
    const height = px(11.69 - REPORT_PDF_OPTIONS.margins.top - REPORT_PDF_OPTIONS.margins.bottom);
    await page.setViewportSize({ width, height });
    mkdirSync(join(REPO_ROOT, 'docs/screenshots'), { recursive: true });
    writeFileSync(SCREENSHOT, await page.screenshot({ clip: { x: 0, y: 0, width, height } }));
    await context.close();
  });

  it('the JSON export carries every row and reads back as a report', () => {
    // what `preflight.report` (json) hands the user, and what `npm run preflight -- --json` prints
    const exported = `${JSON.stringify(report, null, 2)}\n`;
    const back = parseReport(JSON.parse(exported));
    expect(back.rows.map((r) => `${r.host}:${r.port}`)).toEqual(RADIMETRICS_PROFILE.targets.map((t) => `${t.host}:${t.port}`));
    expect(back.rows.map((r) => r.verdict)).toEqual(report.rows.map((r) => r.verdict));
    expect(back.rows.map((r) => r.problem?.kind ?? null)).toEqual(report.rows.map((r) => r.problem?.kind ?? null));
    expect(back.verdict).toEqual(report.verdict);
  });
});
