import { describe, expect, it } from 'vitest';
import { judgeProduct, judgeRows } from '../../../src/main/services/preflight/verdict.ts';
import { row, tlsFacts } from './fixtures.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('row verdicts', () => {
  it('a blocked 17001 is a warning while 443 on the same host works, in the IT manager\'s words', () => {
    const [ok443, blocked17001] = judgeRows([row('medrad.axeda.com', 443), row('medrad.axeda.com', 17001, 'tcp-refused')], NOW);
    expect(ok443).toEqual({ level: 'ok', reason: null });
    expect(blocked17001).toEqual({ level: 'warning', reason: 'Outbound TCP 17001 to medrad.axeda.com is blocked (connection refused) — remote sessions will fall back to 443' });
  });

  it('443 blocked blocks; its 17001/17002 then block too, saying the fallback is gone', () => {
    const verdicts = judgeRows([row('ghuk1.axeda.com', 443, 'tcp-timeout'), row('ghuk1.axeda.com', 17001, 'tcp-refused'), row('ghuk1.axeda.com', 17002)], NOW);
    expect(verdicts[0]).toEqual({ level: 'blocked', reason: 'Outbound TCP 443 to ghuk1.axeda.com is blocked (no answer; packets are dropped) — the device cannot reach the service' });
    expect(verdicts[1]).toEqual({ level: 'blocked', reason: 'Outbound TCP 17001 to ghuk1.axeda.com is blocked (connection refused) — and 443 fails too, so remote sessions cannot connect' });
    expect(verdicts[2]?.level).toBe('ok');
  });

  it('80/8080 blocked is only a warning', () => {
    const [, http] = judgeRows([row('supportserver.radimetrics.com', 443), row('supportserver.radimetrics.com', 8080, 'tcp-refused')], NOW);
    expect(http).toEqual({ level: 'warning', reason: 'Outbound TCP 8080 to supportserver.radimetrics.com is blocked (connection refused) — optional; the device works without it' });
  });

  it('an intercepted TLS connection names the inspecting issuer and what to do', () => {
    const [v] = judgeRows([row('supportserver.radimetrics.com', 443, 'unexpected-issuer', { tls: tlsFacts({ trusted: false, untrustedIssuer: 'Hospital Proxy CA' }) })], NOW);
    expect(v).toEqual({
      level: 'blocked',
      reason: 'TLS to supportserver.radimetrics.com is intercepted (issuer: Hospital Proxy CA) — the device will refuse it; exempt this host from inspection',
    });
  });

  it('an expired certificate and a wrong name block with their own lines', () => {
    const verdicts = judgeRows(
      [
        row('ghsj1.axeda.com', 443, 'cert-expired', { tls: tlsFacts({ leafExpiresAt: '2026-02-01T00:00:00.000Z' }) }),
        row('ghsom1.axeda.com', 443, 'name-mismatch', { tls: tlsFacts({ hostnameMatches: false, leafNames: ['portal.hospital.example'] }) }),
      ],
      NOW,
    );
    expect(verdicts[0]).toEqual({ level: 'blocked', reason: 'Certificate of ghsj1.axeda.com expired on 2026-02-01 — the device will refuse it' });
    expect(verdicts[1]?.level).toBe('blocked');
    expect(verdicts[1]?.reason).toMatch(/^Name does not match the certificate: ghsom1\.axeda\.com presented one for portal\.hospital\.example — the device will refuse it/);
  });

  it('a TLS handshake nobody answers is told apart from a refused connection', () => {
    const [v] = judgeRows([row('ghjap1.axeda.com', 443, 'tls-timeout')], NOW);
    expect(v?.level).toBe('blocked');
    expect(v?.reason).toContain('TLS to ghjap1.axeda.com gets no answer (the connection opens but the handshake is never answered)');
  });

  it('a certificate that ends within 14 days warns on an otherwise good row', () => {
    const [v] = judgeRows([row('medrad.axeda.com', 443, undefined, { tls: tlsFacts({ leafExpiresAt: '2026-03-08T00:00:00.000Z' }) })], NOW);
    expect(v).toEqual({ level: 'warning', reason: 'Certificate of medrad.axeda.com expires on 2026-03-08 (in 6 days) — renew it before then' });
  });

  it('says which proxy hop failed', () => {
    const proxy = { url: 'http://proxy.hospital.example:3128', connectTarget: 'medrad.axeda.com:443', connectMs: 1, status: null, ms: null };
    const verdicts = judgeRows(
      [
        row('medrad.axeda.com', 443, 'proxy-auth-required', { proxy: { ...proxy, status: 407 }, problem: { step: 'proxy', status: 407 } }),
        row('ghsj1.axeda.com', 443, 'proxy-refused', { proxy: { ...proxy, status: 403 }, problem: { step: 'proxy', status: 403 } }),
        row('ghsom1.axeda.com', 443, 'proxy-target-failed', { proxy: { ...proxy, status: 502 }, problem: { step: 'proxy', status: 502 } }),
        row('Gas-aus.axeda.com', 443, 'proxy-unreachable', { proxy, problem: { step: 'proxy', code: 'ECONNREFUSED' } }),
      ],
      NOW,
    );
    expect(verdicts.map((v) => v.reason)).toEqual([
      'The proxy http://proxy.hospital.example:3128 wants credentials (407) — enter the proxy user name and password',
      'The proxy http://proxy.hospital.example:3128 refuses ghsj1.axeda.com:443 (403) — allow CONNECT to ghsj1.axeda.com:443 in the proxy',
      'The proxy http://proxy.hospital.example:3128 cannot reach ghsom1.axeda.com:443 (502) — outbound TCP 443 from the proxy is blocked; allow it',
      'The proxy http://proxy.hospital.example:3128 cannot be reached (connection refused) — nothing gets out through it; check the proxy address and port',
    ]);
  });
});

describe('product verdict', () => {
  it('is ready when every row is ok', () => {
    const rows = [row('medrad.axeda.com', 443), row('medrad.axeda.com', 17001)];
    expect(judgeProduct('MEDRAD', judgeRows(rows, NOW))).toEqual({
      status: 'ready',
      headline: 'MEDRAD: ready (all 2 checks passed)',
      reasons: [],
      counts: { ok: 2, warning: 0, blocked: 0, notRun: 0 },
    });
  });

  it('is ready with warnings when only preferred or optional ports fail', () => {
    const rows = [row('medrad.axeda.com', 443), row('medrad.axeda.com', 17001, 'tcp-refused'), row('medrad.axeda.com', 17002, 'tcp-refused')];
    const verdict = judgeProduct('MEDRAD', judgeRows(rows, NOW));
    expect(verdict.status).toBe('ready-with-warnings');
    expect(verdict.headline).toBe('MEDRAD: ready with warnings (2 warnings)');
    expect(verdict.reasons).toHaveLength(2);
  });

  it('is blocked when a required port fails, blocking reasons first, a name that does not resolve said once', () => {
    const dns = { dns: { kind: 'failed' as const, ms: 2 }, problem: { step: 'dns' as const } };
    const rows = [
      row('medrad.axeda.com', 443),
      row('medrad.axeda.com', 17001, 'tcp-refused'),
      row('ghsj1.axeda.com', 443, 'dns-failed', dns),
      row('ghsj1.axeda.com', 17001, 'dns-failed', dns),
      row('ghsj1.axeda.com', 17002, 'dns-failed', dns),
    ];
    const verdict = judgeProduct('MEDRAD', judgeRows(rows, NOW));
    expect(verdict.status).toBe('blocked');
    expect(verdict.counts).toEqual({ ok: 1, warning: 1, blocked: 3, notRun: 0 });
    expect(verdict.reasons).toEqual([
      "ghsj1.axeda.com does not resolve in this network's DNS — the device cannot find the service; allow DNS lookups of this name or configure the proxy",
      'Outbound TCP 17001 to medrad.axeda.com is blocked (connection refused) — remote sessions will fall back to 443',
    ]);
  });

  it('is incomplete when the run was canceled before every row was checked', () => {
    const rows = [row('medrad.axeda.com', 443), row('medrad.axeda.com', 17001, 'canceled', { problem: { step: 'run' } })];
    const verdicts = judgeRows(rows, NOW);
    expect(verdicts[1]?.level).toBe('not-run');
    expect(judgeProduct('MEDRAD', verdicts).status).toBe('incomplete');
  });
});
