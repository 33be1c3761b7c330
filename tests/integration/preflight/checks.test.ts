import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertifiedKey } from '../../../server/pki/certificates.ts';
import type { CheckRow } from '#contract/preflight';
import { type HostMap, parseHostMap } from '../../../src/main/services/preflight/host-map.ts';
import { MEDRAD_PROFILE, RADIMETRICS_PROFILE, profileForServer } from '../../../src/main/services/preflight/profiles.ts';
import { PROFILE_FORMAT, type PreflightProfile } from '#contract/preflight';
import { buildReport } from '../../../src/main/services/preflight/report.ts';
import { type PreflightProgress, runPreflight } from '../../../src/main/services/preflight/run.ts';
import { freePort } from '../../helpers/ports.ts';
import { type TestServer, startTestServer } from '../../helpers/server.ts';
import {
  type LoopbackListener,
  createCertificateAuthority,
  issueCertificate,
  startHttpListener,
  startSilentListener,
  startTlsListener,
} from '../../helpers/tls-targets.ts';

/**
 * The pre-flight engine against real loopback listeners. Every seed name is mapped, so
 * no real DNS is asked and no outside address is contacted.
 */

const DAY_MS = 24 * 3600 * 1000;
const SEED_NAMES = [...new Set(RADIMETRICS_PROFILE.targets.map((t) => t.host))];

function rowFor(rows: CheckRow[], host: string, port: number): CheckRow {
  const found = rows.find((r) => r.host === host && r.port === port);
  if (!found) throw new Error(`no row for ${host}:${port}`);
  return found;
}

describe('pre-flight checks on loopback', () => {
  let trustedCa: CertifiedKey;
  let good: LoopbackListener;
  let expired: LoopbackListener;
  let wrongHost: LoopbackListener;
  let foreignCa: LoopbackListener;
  let silent: LoopbackListener;
  let web: LoopbackListener;
  let closed: number;

  beforeAll(async () => {
    trustedCa = await createCertificateAuthority('Tether Test Root');
    const inspectionCa = await createCertificateAuthority('Hospital Proxy CA');
    good = await startTlsListener(await issueCertificate(trustedCa, SEED_NAMES));
    expired = await startTlsListener(await issueCertificate(trustedCa, SEED_NAMES, { notBefore: new Date(Date.now() - 400 * DAY_MS), notAfter: new Date(Date.now() - 30 * DAY_MS) }));
    wrongHost = await startTlsListener(await issueCertificate(trustedCa, ['portal.hospital.example']));
    foreignCa = await startTlsListener(await issueCertificate(inspectionCa, SEED_NAMES), [inspectionCa.certPem]);
    silent = await startSilentListener();
    web = await startHttpListener(200, 'test-web/1.0');
    closed = await freePort();
  });
  afterAll(async () => {
    await Promise.all([good, expired, wrongHost, foreignCa, silent, web].map((l) => l?.close()));
  });

  /** Every target of a profile sent to a listener: TLS ports to `tls`, HTTP ports to `http`, with per-target exceptions. */
  function mapAll(profile: PreflightProfile, ports: { tls: number; http: number }, exceptions: Record<string, number> = {}): HostMap {
    return parseHostMap(
      profile.targets.map((t) => {
        const port = exceptions[`${t.host}:${t.port}`] ?? (t.port === 80 || t.port === 8080 ? ports.http : ports.tls);
        return `${t.host}:${t.port}=127.0.0.1:${port}`;
      }),
    );
  }

  it('a healthy network: every Radimetrics row ok, the product ready, checks in parallel within the bound', async () => {
    const events: PreflightProgress[] = [];
    let running = 0;
    let mostAtOnce = 0;
    const run = await runPreflight({
      profile: RADIMETRICS_PROFILE,
      hostMap: mapAll(RADIMETRICS_PROFILE, { tls: good.port, http: web.port }),
      trustedCaPems: [trustedCa.certPem],
      concurrency: 3,
      onProgress: (event) => {
        events.push(event);
        running += event.kind === 'check-started' ? 1 : -1;
        mostAtOnce = Math.max(mostAtOnce, running);
      },
    });
    const report = buildReport(run, 'test');
    expect(report.verdict).toMatchObject({ status: 'ready', reasons: [], counts: { ok: 26, warning: 0, blocked: 0, notRun: 0 } });
    expect(run.rows.every((r) => r.problem === null)).toBe(true);

    const tlsRow = rowFor(run.rows, 'medrad.axeda.com', 17001);
    expect(tlsRow.dns).toEqual({ kind: 'mapped', address: '127.0.0.1', port: good.port });
    expect(tlsRow.tls).toMatchObject({ protocol: 'TLSv1.3', trusted: true, hostnameMatches: true, untrustedIssuer: null });
    expect(tlsRow.tls?.chain[0]?.issuer).toBe('CN=Tether Test Root, O=Tether');
    expect(tlsRow.tls?.leafNames).toContain('medrad.axeda.com');
    expect(rowFor(run.rows, 'supportserver.radimetrics.com', 8080).http).toMatchObject({ status: 200, server: 'test-web/1.0' });

    // one started and one finished event per row, never more than three at once, and really in parallel
    expect(events.filter((e) => e.kind === 'check-started')).toHaveLength(26);
    expect(events.filter((e) => e.kind === 'check-finished').map((e) => e.index).sort((a, b) => a - b)).toEqual([...Array(26).keys()]);
    expect(mostAtOnce).toBe(3);
  });

  it('each failure gets its own row verdict and line: refused, no TLS answer, expired, wrong host, unexpected CA', async () => {
    const run = await runPreflight({
      profile: MEDRAD_PROFILE,
      hostMap: mapAll(MEDRAD_PROFILE, { tls: good.port, http: web.port }, {
        'medrad.axeda.com:17001': closed,
        'ghsj1.axeda.com:443': expired.port,
        'ghsom1.axeda.com:443': wrongHost.port,
        'Gas-aus.axeda.com:443': foreignCa.port,
        'ghjap1.axeda.com:443': silent.port,
        'ghuk1.axeda.com:443': closed,
        'ghuk1.axeda.com:17001': closed,
      }),
      trustedCaPems: [trustedCa.certPem],
      // short, so the listener that never answers does not hold the test up
      timeoutMs: 800,
    });
    const report = buildReport(run, 'test');
    const verdict = (host: string, port: number) => report.rows.find((r) => r.host === host && r.port === port)?.verdict;

    expect(rowFor(run.rows, 'medrad.axeda.com', 17001).problem).toMatchObject({ kind: 'tcp-refused', step: 'tcp', code: 'ECONNREFUSED' });
    expect(verdict('medrad.axeda.com', 17001)).toEqual({ level: 'warning', reason: 'Outbound TCP 17001 to medrad.axeda.com is blocked (connection refused) — remote sessions will fall back to 443' });

    const expiredRow = rowFor(run.rows, 'ghsj1.axeda.com', 443);
    expect(expiredRow.problem?.kind).toBe('cert-expired');
    expect(verdict('ghsj1.axeda.com', 443)).toEqual({ level: 'blocked', reason: `Certificate of ghsj1.axeda.com expired on ${expiredRow.tls?.leafExpiresAt?.slice(0, 10)} — the device will refuse it` });
    // a row is judged on its own facts: the same host's 17001 presents a good certificate
    expect(verdict('ghsj1.axeda.com', 17001)?.level).toBe('ok');

    expect(rowFor(run.rows, 'ghsom1.axeda.com', 443).tls).toMatchObject({ trusted: true, hostnameMatches: false, leafNames: ['portal.hospital.example'] });
    expect(verdict('ghsom1.axeda.com', 443)?.reason).toBe('Name does not match the certificate: ghsom1.axeda.com presented one for portal.hospital.example — the device will refuse it; something between answers in its place');

    expect(rowFor(run.rows, 'Gas-aus.axeda.com', 443).tls).toMatchObject({ trusted: false, untrustedIssuer: 'Hospital Proxy CA' });
    expect(verdict('Gas-aus.axeda.com', 443)).toEqual({ level: 'blocked', reason: 'TLS to Gas-aus.axeda.com is intercepted (issuer: Hospital Proxy CA) — the device will refuse it; exempt this host from inspection' });

    // "timed out" staged as a listener that accepts and never answers the TLS handshake
    const silentRow = rowFor(run.rows, 'ghjap1.axeda.com', 443);
    expect(silentRow.tcp).not.toBeNull();
    expect(silentRow.problem).toMatchObject({ kind: 'tls-timeout', step: 'tls' });
    expect(verdict('ghjap1.axeda.com', 443)?.reason).toMatch(/^TLS to ghjap1\.axeda\.com gets no answer \(the connection opens but the handshake is never answered\)/);

    expect(verdict('ghuk1.axeda.com', 443)).toEqual({ level: 'blocked', reason: 'Outbound TCP 443 to ghuk1.axeda.com is blocked (connection refused) — the device cannot reach the service' });
    expect(verdict('ghuk1.axeda.com', 17001)?.reason).toBe('Outbound TCP 17001 to ghuk1.axeda.com is blocked (connection refused) — and 443 fails too, so remote sessions cannot connect');

    expect(report.verdict.status).toBe('blocked');
    expect(report.verdict.counts).toEqual({ ok: 11, warning: 1, blocked: 6, notRun: 0 });
    expect(report.verdict.reasons.slice(0, 6).every((line) => report.rows.some((r) => r.verdict.level === 'blocked' && r.verdict.reason === line))).toBe(true);
  });

  it('only 80/8080 failing (refused, or a TLS server where HTTP was expected) leaves the product ready with warnings', async () => {
    const run = await runPreflight({
      profile: RADIMETRICS_PROFILE,
      hostMap: mapAll(RADIMETRICS_PROFILE, { tls: good.port, http: closed }, { 'supportserver.radimetrics.com:8080': good.port }),
      trustedCaPems: [trustedCa.certPem],
      timeoutMs: 2000,
    });
    const report = buildReport(run, 'test');
    expect(report.verdict.status).toBe('ready-with-warnings');
    expect(report.verdict.counts).toMatchObject({ warning: 5, blocked: 0 });
    expect(rowFor(run.rows, 'supportserver.radimetrics.com', 8080).problem?.kind).toMatch(/^http-(failed|timeout)$/);
    expect(report.verdict.reasons).toContain('Outbound TCP 80 to subversion.assembla.com is blocked (connection refused) — optional; the device works without it');
  });

  it('asks the system resolver only for names outside the map (here: localhost)', async () => {
    const profile: PreflightProfile = { format: PROFILE_FORMAT, version: 1, id: 'local', name: 'Local web', targets: [{ host: 'localhost', port: web.port, protocol: 'http' }] };
    const run = await runPreflight({ profile });
    const [row] = run.rows;
    expect(row?.dns?.kind).toBe('resolved');
    expect(row?.dns?.kind === 'resolved' && row.dns.addresses.every((a) => a === '127.0.0.1' || a === '::1')).toBe(true);
  });

  it('can be canceled: finished rows stay, the rest are marked not run, the verdict is incomplete', async () => {
    const controller = new AbortController();
    const run = await runPreflight({
      profile: MEDRAD_PROFILE,
      hostMap: parseHostMap(MEDRAD_PROFILE.targets.map((t) => `${t.host}:${t.port}=127.0.0.1:${silent.port}`)),
      timeoutMs: 60_000,
      concurrency: 2,
      signal: controller.signal,
      onProgress: (event) => {
        if (event.kind === 'check-started' && event.index === 1) controller.abort();
      },
    });
    expect(run.canceled).toBe(true);
    expect(run.rows).toHaveLength(18);
    expect(run.rows.every((r) => r.problem?.kind === 'canceled')).toBe(true);
    const report = buildReport(run, 'test');
    expect(report.verdict.status).toBe('incomplete');
    expect(report.rows.every((r) => r.verdict.level === 'not-run')).toBe(true);
  });

  it('refuses bad settings before contacting anything', async () => {
    const base = { profile: MEDRAD_PROFILE, hostMap: mapAll(MEDRAD_PROFILE, { tls: good.port, http: web.port }) };
    const acceptedBefore = good.accepted;
    await expect(runPreflight({ ...base, timeoutMs: 0 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('timeout') });
    await expect(runPreflight({ ...base, concurrency: 1000 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(runPreflight({ ...base, proxy: { url: 'https://proxy.example:3128' } })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('http://') });
    await expect(runPreflight({ ...base, trustedCaPems: ['garbage'] })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(good.accepted).toBe(acceptedBefore);
  });
});

describe('pre-flight for the connected Tether server', () => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startTestServer();
  });
  afterAll(async () => {
    await ts?.destroy();
  });

  it('is ready with the server CA pinned, and reports the CA as an unexpected issuer without it', async () => {
    const profile = profileForServer(ts.url);
    const pinned = buildReport(await runPreflight({ profile, trustedCaPems: [ts.ca] }), 'test');
    expect(pinned.verdict.status).toBe('ready');
    expect(pinned.rows[0]?.dns).toEqual({ kind: 'literal' });

    const unpinned = buildReport(await runPreflight({ profile }), 'test');
    expect(unpinned.verdict.status).toBe('blocked');
    expect(unpinned.rows[0]?.problem?.kind).toBe('unexpected-issuer');
    expect(unpinned.rows[0]?.tls?.untrustedIssuer).toBe('Tether Server CA');
  });
});
