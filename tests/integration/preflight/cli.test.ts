import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDRAD_PROFILE, RADIMETRICS_PROFILE } from '../../../src/main/services/preflight/profiles.ts';
import { PROFILE_FORMAT, type PreflightProfile, PreflightReportSchema } from '#contract/preflight';
import { freePort } from '../../helpers/ports.ts';
import { runTs } from '../../helpers/processes.ts';
import { type LoopbackListener, createCertificateAuthority, issueCertificate, startHttpListener, startTlsListener } from '../../helpers/tls-targets.ts';

/** `npm run preflight` as IT staff run it: a real process, every seed name mapped to loopback. */

const SCRIPT = 'scripts/preflight.ts';
const SEED_NAMES = [...new Set(RADIMETRICS_PROFILE.targets.map((t) => t.host))];

describe('npm run preflight', () => {
  let dir: string;
  let caFile: string;
  let good: LoopbackListener;
  let web: LoopbackListener;
  let closed: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-preflight-cli-'));
    const ca = await createCertificateAuthority('Tether Test Root');
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, ca.certPem);
    good = await startTlsListener(await issueCertificate(ca, SEED_NAMES));
    web = await startHttpListener(200, 'test-web/1.0');
    closed = await freePort();
  });
  afterAll(async () => {
    await Promise.all([good?.close(), web?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** `--map` for every target of a profile, with per-target exceptions (`host:port` → loopback port). */
  function mapFlag(profile: PreflightProfile, exceptions: Record<string, number> = {}): string {
    return profile.targets
      .map((t) => `${t.host}:${t.port}=127.0.0.1:${exceptions[`${t.host}:${t.port}`] ?? (t.port === 80 || t.port === 8080 ? web.port : good.port)}`)
      .join(',');
  }

  const preflight = (args: string[], env: Record<string, string | undefined> = {}) => runTs(SCRIPT, args, { env: { CI: '1', ...env } });

  it('exits 0 for a ready product and prints the versioned JSON report with every row', async () => {
    const result = await preflight(['--profile', 'radimetrics', '--map', mapFlag(RADIMETRICS_PROFILE), '--ca', caFile, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = PreflightReportSchema.parse(JSON.parse(result.stdout));
    expect(report).toMatchObject({ format: 'tether.preflight-report', version: 1, profile: { id: 'radimetrics' }, verdict: { status: 'ready' } });
    expect(report.rows.map((r) => `${r.host}:${r.port}`)).toEqual(RADIMETRICS_PROFILE.targets.map((t) => `${t.host}:${t.port}`));
    expect(report.rows.every((r) => r.verdict.level === 'ok' && r.dns?.kind === 'mapped')).toBe(true);
  });

  it('exits 1 with warnings, and prints the reasons as text', async () => {
    const result = await preflight(['--profile', 'medrad', '--map', mapFlag(MEDRAD_PROFILE, { 'medrad.axeda.com:17001': closed }), '--ca', caFile]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('VERDICT: MEDRAD Injection System Fluid Delivery Devices: ready with warnings (1 warning)');
    expect(result.stdout).toContain('  - Outbound TCP 17001 to medrad.axeda.com is blocked (connection refused) — remote sessions will fall back to 443');
  });

  it('exits 2 when blocked, and writes a printable HTML report with every row', async () => {
    const html = join(dir, 'report.html');
    // without --ca the test root is not trusted: every TLS row looks intercepted
    const result = await preflight(['--profile', 'radimetrics', '--map', mapFlag(RADIMETRICS_PROFILE, { 'subversion.assembla.com:80': closed }), '--html', html]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('VERDICT: Radimetrics Enterprise Platform: blocked');
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('Verdict: blocked');
    for (const t of RADIMETRICS_PROFILE.targets) expect(page).toContain(`<td>${t.host}</td><td>${t.port}</td>`);
    expect(page.match(/<tr><td>/g)).toHaveLength(RADIMETRICS_PROFILE.targets.length);
    expect(page).toContain('is intercepted (issuer: Tether Test Root)');
    expect(page).not.toMatch(/<script|<link|<img|src=|url\(/i);
  });

  it('under CI refuses a built-in profile unless every host is mapped, before contacting anything', async () => {
    const before = good.accepted;
    const unmapped = await preflight(['--profile', 'medrad']);
    expect(unmapped.code).toBe(64);
    expect(unmapped.stdout).toBe('');
    expect(unmapped.stderr).toContain('CI is set: refusing to contact the real hosts of the built-in profile "medrad"; map every one with --map (18 unmapped');

    const partly = await preflight(['--profile', 'medrad', '--map', `medrad.axeda.com=127.0.0.1:${good.port}`]);
    expect(partly.code).toBe(64);
    expect(partly.stderr).toContain('(15 unmapped: ghsj1.axeda.com:443');
    expect(good.accepted).toBe(before);
  });

  it('under CI runs a custom profile file that names only loopback', async () => {
    const file = join(dir, 'local.json');
    writeFileSync(file, JSON.stringify({ format: PROFILE_FORMAT, version: 1, id: 'local', name: 'Local web', targets: [{ host: '127.0.0.1', port: web.port, protocol: 'http' }] }));
    const result = await preflight(['--profile', file, '--json']);
    expect(result.code).toBe(0);
    expect(PreflightReportSchema.parse(JSON.parse(result.stdout)).rows[0]?.http).toMatchObject({ status: 200, server: 'test-web/1.0' });
  });

  it('exits 64 with a clear message for bad usage', async () => {
    const badProfile = join(dir, 'bad.json');
    writeFileSync(badProfile, JSON.stringify({ format: PROFILE_FORMAT, version: 1, id: 'bad', name: 'Bad', targets: [{ host: 'a.example', port: 99999 }] }));
    const notPem = join(dir, 'not-a-ca.pem');
    writeFileSync(notPem, 'hello');
    const mapped = ['--map', mapFlag(MEDRAD_PROFILE)];
    const cases: Array<[string[], string]> = [
      [[], '--profile is required'],
      [['--profile', 'radimetrix'], 'unknown profile "radimetrix"'],
      [['--profile', 'medrad', '--bogus'], "Unknown option '--bogus'"],
      [['--profile', 'medrad', '--map', 'medrad.axeda.com=localhost'], 'host mapping "medrad.axeda.com=localhost" is invalid'],
      [['--profile', badProfile], 'invalid pre-flight profile — targets.0.port: ports run from 1 to 65535 [VALIDATION_FAILED]'],
      [['--profile', join(dir, 'missing.json')], 'cannot read the profile file'],
      [['--profile', 'medrad', ...mapped, '--ca', notPem], 'no PEM certificate'],
      [['--profile', 'medrad', ...mapped, '--timeout-ms', 'soon'], '--timeout-ms takes a whole number'],
      [['--profile', 'medrad', ...mapped, '--timeout-ms', '0'], 'the per-check timeout (ms) must be a whole number from 50 to 120000'],
      [['--profile', 'medrad', ...mapped, '--proxy', 'https://proxy.example:3128'], 'the proxy URL must start with http://'],
    ];
    for (const [args, message] of cases) {
      const result = await preflight(args);
      expect({ args, code: result.code }).toEqual({ args, code: 64 });
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain('usage: npm run preflight');
    }
    // ten processes one after another, on a shared two-core machine
  }, 120_000);
});
