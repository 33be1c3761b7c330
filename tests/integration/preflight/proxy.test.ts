import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CertifiedKey } from '../../../server/pki/certificates.ts';
import { type HostMap, parseHostMap } from '../../../src/main/services/preflight/host-map.ts';
import { MEDRAD_PROFILE, RADIMETRICS_PROFILE } from '../../../src/main/services/preflight/profiles.ts';
import { buildReport } from '../../../src/main/services/preflight/report.ts';
import type { PreflightProfile, PreflightReport } from '#contract/preflight';
import { type PreflightRunOptions, runPreflight } from '../../../src/main/services/preflight/run.ts';
import { type ConnectProxy, PROXY_USER, startConnectProxy } from '../../helpers/connect-proxy.ts';
import { freePort } from '../../helpers/ports.ts';
import {
  type LoopbackListener,
  createCertificateAuthority,
  issueCertificate,
  startHttpListener,
  startSilentListener,
  startTlsListener,
} from '../../helpers/tls-targets.ts';

/**
 * The pre-flight through a hospital's CONNECT proxy, all on loopback: a mapped name is
 * sent to the proxy as its loopback address, so the proxy never resolves a seed name.
 */

const SEED_NAMES = [...new Set(RADIMETRICS_PROFILE.targets.map((t) => t.host))];

describe('pre-flight through a CONNECT proxy', () => {
  let trustedCa: CertifiedKey;
  let good: LoopbackListener;
  let web: LoopbackListener;
  let proxy: ConnectProxy;
  let inspecting: ConnectProxy;
  let gateway: ConnectProxy;

  beforeAll(async () => {
    trustedCa = await createCertificateAuthority('Tether Test Root');
    good = await startTlsListener(await issueCertificate(trustedCa, SEED_NAMES));
    web = await startHttpListener(200, 'test-web/1.0');
    proxy = await startConnectProxy('open');
    inspecting = await startConnectProxy('intercept', { interceptCa: await createCertificateAuthority('Hospital Proxy CA') });
    gateway = await startConnectProxy('open', { targetFailure: 'bad-gateway' });
  });
  afterEach(() => {
    proxy.mode = 'open';
  });
  afterAll(async () => {
    await Promise.all([good, web, proxy, inspecting, gateway].map((c) => c?.close()));
  });

  function mapAll(profile: PreflightProfile, tlsPort = good.port): HostMap {
    return parseHostMap(profile.targets.map((t) => `${t.host}:${t.port}=127.0.0.1:${t.port === 80 || t.port === 8080 ? web.port : tlsPort}`));
  }

  async function check(options: Partial<PreflightRunOptions> & { proxy: PreflightRunOptions['proxy'] }, profile = MEDRAD_PROFILE): Promise<PreflightReport> {
    const run = await runPreflight({ profile, hostMap: mapAll(profile), trustedCaPems: [trustedCa.certPem], timeoutMs: 2000, ...options });
    return buildReport(run, 'test');
  }

  it('an open proxy: every row tunnels through it and the product is ready', async () => {
    const before = proxy.targets.length;
    const report = await check({ proxy: { url: proxy.url } });
    expect(report.verdict.status).toBe('ready');
    expect(proxy.targets.length - before).toBe(18);
    expect(new Set(proxy.targets.slice(before))).toEqual(new Set([`127.0.0.1:${good.port}`]));
    const row = report.rows[0];
    expect(row?.proxy).toMatchObject({ url: proxy.url, connectTarget: `127.0.0.1:${good.port}`, status: 200 });
    expect(row?.tls).toMatchObject({ trusted: true, hostnameMatches: true });
    expect(report.settings).toMatchObject({ proxy: proxy.url, proxyCredentials: false });
  });

  it('a proxy that wants credentials: 407 on every row, said once; with them the product is ready', async () => {
    proxy.mode = 'demand-auth';
    const without = await check({ proxy: { url: proxy.url } });
    expect(without.verdict.status).toBe('blocked');
    expect(without.rows.every((r) => r.problem?.kind === 'proxy-auth-required' && r.proxy?.status === 407)).toBe(true);
    expect(without.verdict.reasons).toEqual([`The proxy ${proxy.url} wants credentials (407) — enter the proxy user name and password`]);

    const wrong = await check({ proxy: { url: proxy.url, username: PROXY_USER.username, password: 'nope' } });
    expect(wrong.rows.every((r) => r.problem?.kind === 'proxy-auth-required')).toBe(true);

    const withCredentials = await check({ proxy: { url: proxy.url, ...PROXY_USER } });
    expect(withCredentials.verdict.status).toBe('ready');
    // credentials in the URL work too, and never reach the report
    const inUrl = await check({ proxy: { url: proxy.url.replace('http://', `http://${PROXY_USER.username}:${PROXY_USER.password}@`) } });
    expect(inUrl.verdict.status).toBe('ready');
    expect(inUrl.settings).toMatchObject({ proxy: proxy.url, proxyCredentials: true });
    const secret = `${PROXY_USER.username}:${PROXY_USER.password}`;
    expect(JSON.stringify(inUrl)).not.toContain(`${secret}@`);
    expect(JSON.stringify(inUrl)).not.toContain(Buffer.from(secret).toString('base64'));
  });

  it('a proxy that refuses: 403 named as the proxy refusing that host and port', async () => {
    proxy.mode = 'refuse';
    const report = await check({ proxy: { url: proxy.url } });
    expect(report.verdict.status).toBe('blocked');
    expect(report.rows.every((r) => r.problem?.kind === 'proxy-refused' && r.problem.status === 403)).toBe(true);
    const row = report.rows.find((r) => r.host === 'medrad.axeda.com' && r.port === 443);
    expect(row?.verdict).toEqual({ level: 'blocked', reason: `The proxy ${proxy.url} refuses medrad.axeda.com:443 (403) — allow CONNECT to medrad.axeda.com:443 in the proxy` });
    const session = report.rows.find((r) => r.host === 'medrad.axeda.com' && r.port === 17001);
    expect(session?.verdict.reason).toBe(`The proxy ${proxy.url} refuses medrad.axeda.com:17001 (403) — and 443 fails too, so remote sessions cannot connect`);
  });

  it('a proxy that inspects TLS: every TLS row is intercepted (issuer named), plain HTTP still passes', async () => {
    const report = await check({ proxy: { url: inspecting.url } }, RADIMETRICS_PROFILE);
    expect(report.verdict.status).toBe('blocked');
    const tlsRows = report.rows.filter((r) => r.protocol === 'tls');
    expect(tlsRows).toHaveLength(21);
    expect(tlsRows.every((r) => r.problem?.kind === 'unexpected-issuer' && r.tls?.untrustedIssuer === 'Hospital Proxy CA')).toBe(true);
    // the stand-in certificate carries the right name: only the issuer gives the inspection away
    expect(tlsRows.every((r) => r.tls?.hostnameMatches)).toBe(true);
    expect(report.rows.find((r) => r.host === 'supportserver.radimetrics.com' && r.port === 443)?.verdict.reason).toBe(
      'TLS to supportserver.radimetrics.com is intercepted (issuer: Hospital Proxy CA) — the device will refuse it; exempt this host from inspection',
    );
    expect(report.rows.find((r) => r.host === 'medrad.axeda.com' && r.port === 17001)?.verdict.reason).toBe(
      'TLS to medrad.axeda.com on port 17001 is intercepted (issuer: Hospital Proxy CA) — and 443 fails too, so remote sessions cannot connect',
    );
    const httpRows = report.rows.filter((r) => r.protocol === 'http');
    expect(httpRows).toHaveLength(5);
    expect(httpRows.every((r) => r.problem === null && r.http?.status === 200)).toBe(true);
  });

  it('the target behind the proxy is down: the proxy answers 502 and the row says the proxy cannot reach it', async () => {
    const closed = await freePort();
    const run = await runPreflight({
      profile: MEDRAD_PROFILE,
      hostMap: parseHostMap(MEDRAD_PROFILE.targets.map((t) => `${t.host}:${t.port}=127.0.0.1:${t.host === 'ghuk1.axeda.com' && t.port === 17002 ? closed : good.port}`)),
      proxy: { url: gateway.url },
      trustedCaPems: [trustedCa.certPem],
    });
    const report = buildReport(run, 'test');
    const row = report.rows.find((r) => r.host === 'ghuk1.axeda.com' && r.port === 17002);
    expect(row?.problem).toMatchObject({ kind: 'proxy-target-failed', step: 'proxy', status: 502 });
    expect(row?.verdict).toEqual({ level: 'warning', reason: `The proxy ${gateway.url} cannot reach ghuk1.axeda.com:17002 (502) — remote sessions will fall back to 443` });
    expect(report.verdict.status).toBe('ready-with-warnings');
  });

  it('the proxy itself cannot be reached, or never answers CONNECT: the proxy hop is named', async () => {
    const nothing = await freePort();
    const unreachable = await check({ proxy: { url: `http://127.0.0.1:${nothing}` } });
    expect(unreachable.rows.every((r) => r.problem?.kind === 'proxy-unreachable' && r.problem.code === 'ECONNREFUSED')).toBe(true);
    expect(unreachable.verdict.reasons).toEqual([`The proxy http://127.0.0.1:${nothing} cannot be reached (connection refused) — nothing gets out through it; check the proxy address and port`]);

    const mute = await startSilentListener();
    try {
      const silent = await check({ proxy: { url: `http://127.0.0.1:${mute.port}` }, timeoutMs: 500 }, { ...MEDRAD_PROFILE, targets: MEDRAD_PROFILE.targets.slice(0, 2) });
      expect(silent.rows.every((r) => r.problem?.kind === 'proxy-timeout' && r.proxy?.connectMs !== null)).toBe(true);
      expect(silent.rows[0]?.verdict.reason).toMatch(/^The proxy http:\/\/127\.0\.0\.1:\d+ does not answer for medrad\.axeda\.com:443 in time/);
    } finally {
      await mute.close();
    }
  });
});
