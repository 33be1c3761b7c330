import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent } from '../../../agent-sim/agent/agent.ts';
import type { AgentCredentials } from '../../../agent-sim/agent/credentials.ts';
import { credentialsPath } from '../../../agent-sim/agent/credentials.ts';
import { parseAgentConfig } from '../../../agent-sim/agent/config.ts';
import { createSimulatedDevice } from '../../../agent-sim/devices/index.ts';
import { createCertificateAuthority, signDeviceCsr } from '../../../server/pki/certificates.ts';
import type { AuditEntry } from '#contract/api/audit';
import type { DeviceDetail, DeviceEvent } from '#contract/api/fleet';
import { type ErrorBody, TetherError } from '#contract/errors';
import { createCsr } from '#node-lib/x509';
import { DEVICE_SECRET_HEADER } from '#contract/protocol/enroll';
import { type SeededDevice, seedCustomer } from '../../helpers/admin.ts';
import { testAgentSettings } from '../../helpers/fleet.ts';
import { type ApiResponse, request } from '../../helpers/http.ts';
import { type TestServer, startTestServer, tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

const POLL_BODY = { agent: { version: '1.0.0', bootId: 'test-boot-0001' }, softwareVersion: '1.0', waitMs: 0 };
const ENROLL_AGENT = { version: '1.0.0', bootId: 'test-boot-0002' };

/** The latest audit sequence number, to read only what a test caused. */
async function latestAuditSeq(ts: TestServer): Promise<number> {
  const res = await ts.adminClient.get<{ items: AuditEntry[] }>('/api/v1/audit?limit=1');
  return res.body.items[0]?.seq ?? 0;
}

async function auditAfter(ts: TestServer, action: string, afterSeq: number): Promise<AuditEntry[]> {
  const res = await ts.adminClient.get<{ items: AuditEntry[] }>(`/api/v1/audit?action=${action}&afterSeq=${afterSeq}&limit=1000`);
  expect(res.status).toBe(200);
  return res.body.items;
}

/** Enrolls as the real agent does (key pair here, CSR up) into its own data dir. */
async function enrollAgent(ts: TestServer, dataDir: string, device: SeededDevice, code = device.enrollmentCode): Promise<AgentCredentials> {
  const config = parseAgentConfig({ ...testAgentSettings(ts), dataDir });
  return Agent.enroll(config, createSimulatedDevice({ serial: device.serial, modelId: device.modelId }), code);
}

/** One raw report (`waitMs: 0`) with exactly the credentials given. */
function rawPoll(ts: TestServer, credentials: { cert?: string; key?: string; secret?: string }): Promise<ApiResponse<ErrorBody>> {
  return request<ErrorBody>(ts.url, ts.ca, 'POST', '/agent/v1/poll', {
    body: POLL_BODY,
    ...(credentials.cert ? { cert: credentials.cert, key: credentials.key } : {}),
    ...(credentials.secret !== undefined ? { headers: { [DEVICE_SECRET_HEADER]: credentials.secret } } : {}),
  });
}

function pollAs(ts: TestServer, creds: AgentCredentials): Promise<ApiResponse<ErrorBody>> {
  return rawPoll(ts, { cert: creds.certificatePem, key: creds.privateKeyPem, secret: creds.deviceSecret });
}

describe('agent authentication: certificate and secret on every request', () => {
  let ts: TestServer;
  let agentsDir: string;
  let devices: SeededDevice[];

  beforeAll(async () => {
    ts = await startTestServer({ pollWindowMs: 2000 });
    agentsDir = tempDir('tether-agent-auth-');
    const seeded = await seedCustomer(ts, 'Auth Clinic', Array.from({ length: 6 }, (_, i) => ({ serial: `AUTH-${i + 1}`, modelId: 'stellant-flex' as const })));
    devices = seeded.devices;
  });

  afterAll(async () => {
    await ts?.destroy();
    if (agentsDir) rmSync(agentsDir, { recursive: true, force: true });
  });

  function device(index: number): SeededDevice {
    const d = devices[index];
    if (!d) throw new Error(`no seeded device ${index}`);
    return d;
  }

  it('lets an enrolled agent poll: it stores owner-only credentials and the device goes online', async () => {
    const d = device(0);
    const dataDir = join(agentsDir, d.serial);
    const creds = await enrollAgent(ts, dataDir, d);
    expect(creds.deviceId).toBe(d.id);
    expect(Agent.storedCredentials(dataDir)).toEqual(creds);
    expect(statSync(credentialsPath(dataDir)).mode & 0o777).toBe(0o600);

    const simulated = createSimulatedDevice({ serial: d.serial, modelId: d.modelId, tickMs: 200 });
    const agent = new Agent(parseAgentConfig({ ...testAgentSettings(ts), dataDir }), simulated, creds, { logger: pino({ level: 'silent' }) });
    simulated.start();
    agent.start();
    try {
      const online = await waitFor(async () => {
        const res = await ts.adminClient.get<DeviceDetail>(`/api/v1/devices/${d.id}`);
        return res.body.status === 'online' ? res.body : undefined;
      }, { what: 'device online' });
      expect(online.enrolled).toBe(true);
      expect(online.agentVersion).toBe('1.0.0');
    } finally {
      simulated.stop();
      await agent.stop({ goodbye: true });
    }
  });

  it('refuses a poll without a client certificate with DEVICE_AUTH_FAILED and audits "no client certificate"', async () => {
    const d = device(1);
    const creds = await enrollAgent(ts, join(agentsDir, d.serial), d);
    const before = await latestAuditSeq(ts);
    const res = await rawPoll(ts, { secret: creds.deviceSecret });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('DEVICE_AUTH_FAILED');
    const denials = await auditAfter(ts, 'agent.auth', before);
    expect(denials).toHaveLength(1);
    expect(denials[0]).toMatchObject({ outcome: 'denied', actorType: 'device', targetId: null });
    expect(String(denials[0]?.detail?.reason)).toMatch(/no client certificate/);
  });

  it('refuses the right certificate with a wrong or missing secret, auditing which', async () => {
    const d = device(2);
    const creds = await enrollAgent(ts, join(agentsDir, d.serial), d);
    expect((await pollAs(ts, creds)).status).toBe(200);

    const before = await latestAuditSeq(ts);
    const wrong = await rawPoll(ts, { cert: creds.certificatePem, key: creds.privateKeyPem, secret: `${creds.deviceSecret.slice(0, -2)}xx` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('DEVICE_AUTH_FAILED');
    const missing = await rawPoll(ts, { cert: creds.certificatePem, key: creds.privateKeyPem });
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('DEVICE_AUTH_FAILED');

    const denials = await auditAfter(ts, 'agent.auth', before);
    expect(denials.map((e) => [e.outcome, e.targetId, e.detail?.reason])).toEqual([
      ['denied', d.id, 'wrong device secret'],
      ['denied', d.id, 'no device secret'],
    ]);
  });

  it('refuses a certificate naming the device but signed by another CA, even with the right secret', async () => {
    const d = device(3);
    const creds = await enrollAgent(ts, join(agentsDir, d.serial), d);
    const rogueCa = await createCertificateAuthority('Rogue Device CA');
    const { csrPem, keyPem } = await createCsr(d.serial);
    const forged = await signDeviceCsr(rogueCa, csrPem, d.id);

    const before = await latestAuditSeq(ts);
    const res = await rawPoll(ts, { cert: forged.certPem, key: keyPem, secret: creds.deviceSecret });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('DEVICE_AUTH_FAILED');
    const denials = await auditAfter(ts, 'agent.auth', before);
    expect(denials).toHaveLength(1);
    expect(denials[0]?.outcome).toBe('denied');
    expect(String(denials[0]?.detail?.reason)).toMatch(/not trusted/);
    // the device's real credentials are unaffected
    expect((await pollAs(ts, creds)).status).toBe(200);
  });

  it('re-enrollment replaces certificate and secret: the old ones are refused at once, the new ones work', async () => {
    const d = device(4);
    const dataDir = join(agentsDir, d.serial);
    const first = await enrollAgent(ts, dataDir, d);
    expect((await pollAs(ts, first)).status).toBe(200);

    const issued = await ts.adminClient.post<{ deviceId: string; enrollmentCode: string }>(`/api/v1/devices/${d.id}/enrollment-code`);
    expect(issued.status).toBe(201);
    const second = await enrollAgent(ts, dataDir, d, issued.body.enrollmentCode);
    expect(second.deviceId).toBe(d.id);
    expect(second.certificatePem).not.toBe(first.certificatePem);
    expect(second.deviceSecret).not.toBe(first.deviceSecret);
    expect(Agent.storedCredentials(dataDir)).toEqual(second);

    const before = await latestAuditSeq(ts);
    const old = await pollAs(ts, first);
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('DEVICE_AUTH_FAILED');
    // neither half of the old pair helps
    expect((await rawPoll(ts, { cert: first.certificatePem, key: first.privateKeyPem, secret: second.deviceSecret })).status).toBe(401);
    expect((await rawPoll(ts, { cert: second.certificatePem, key: second.privateKeyPem, secret: first.deviceSecret })).status).toBe(401);
    const reasons = (await auditAfter(ts, 'agent.auth', before)).map((e) => String(e.detail?.reason));
    expect(reasons).toHaveLength(3);
    expect(reasons[0]).toMatch(/replaced/);
    expect(reasons[1]).toMatch(/replaced/);
    expect(reasons[2]).toBe('wrong device secret');

    expect((await pollAs(ts, second)).status).toBe(200);
    const events = await ts.adminClient.get<{ items: DeviceEvent[] }>(`/api/v1/devices/${d.id}/events?limit=100`);
    expect(events.body.items.filter((e) => e.type === 'agent.enrolled')).toHaveLength(2);
  });

  it('refuses a used or unknown enrollment code with ENROLLMENT_CODE_INVALID and audits the denial', async () => {
    const d = device(5);
    await enrollAgent(ts, join(agentsDir, `${d.serial}-first`), d);

    const before = await latestAuditSeq(ts);
    const reused = enrollAgent(ts, join(agentsDir, `${d.serial}-again`), d);
    await expect(reused).rejects.toBeInstanceOf(TetherError);
    await expect(reused).rejects.toMatchObject({ code: 'ENROLLMENT_CODE_INVALID' });
    const unknown = enrollAgent(ts, join(agentsDir, `${d.serial}-unknown`), d, 'ZZZZ-ZZZZ-ZZZZ-ZZZZ');
    await expect(unknown).rejects.toMatchObject({ code: 'ENROLLMENT_CODE_INVALID' });

    const raw = await request<ErrorBody>(ts.url, ts.ca, 'POST', '/agent/v1/enroll', {
      body: { enrollmentCode: 'YYYY-YYYY-YYYY-YYYY', csrPem: (await createCsr('X')).csrPem, agent: ENROLL_AGENT, softwareVersion: '1.0' },
    });
    expect(raw.status).toBe(401);
    expect(raw.body.error.code).toBe('ENROLLMENT_CODE_INVALID');

    const denials = await auditAfter(ts, 'agent.enroll', before);
    expect(denials.map((e) => [e.outcome, e.targetId, e.detail?.reason])).toEqual([
      ['denied', d.id, 'code already used'],
      ['denied', null, 'unknown code'],
      ['denied', null, 'unknown code'],
    ]);
  });

  it('answers a garbage CSR with 400 and leaves the code unused for a correct enrollment', async () => {
    const [fresh] = (await seedCustomer(ts, 'Garbage CSR Clinic', [{ serial: 'AUTH-CSR-1', modelId: 'intego' }])).devices;
    if (!fresh) throw new Error('seeding failed');
    const garbage = await request<ErrorBody>(ts.url, ts.ca, 'POST', '/agent/v1/enroll', {
      body: { enrollmentCode: fresh.enrollmentCode, csrPem: `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(200)}\n-----END CERTIFICATE REQUEST-----`, agent: ENROLL_AGENT, softwareVersion: '1.0' },
    });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.code).toBe('VALIDATION_FAILED');

    const creds = await enrollAgent(ts, join(agentsDir, fresh.serial), fresh);
    expect(creds.deviceId).toBe(fresh.id);
    expect((await pollAs(ts, creds)).status).toBe(200);
  });
});

describe('enrollment code expiry', () => {
  let ts: TestServer;
  let agentsDir: string;

  beforeAll(async () => {
    // 0.01 h (36 s) is the shortest TTL the configuration allows.
    ts = await startTestServer({ enrollmentCodeTtlHours: 0.01 });
    agentsDir = tempDir('tether-agent-expiry-');
  });

  afterAll(async () => {
    vi.useRealTimers();
    await ts?.destroy();
    if (agentsDir) rmSync(agentsDir, { recursive: true, force: true });
  });

  it('refuses an expired code with ENROLLMENT_CODE_INVALID and audits "code expired"', async () => {
    const [d] = (await seedCustomer(ts, 'Expiry Clinic', [{ serial: 'EXP-1', modelId: 'radimetrics' }])).devices;
    if (!d) throw new Error('seeding failed');
    const before = await latestAuditSeq(ts);
    // The server's clock moves a minute on: past the code's 36 s lifetime. TLS and the
    // rest of the stack stay real; only "now" is later.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 60_000);
    let outcome: unknown;
    try {
      await enrollAgent(ts, join(agentsDir, d.serial), d);
    } catch (err) {
      outcome = err;
    } finally {
      vi.useRealTimers();
    }
    expect(outcome).toBeInstanceOf(TetherError);
    expect(outcome).toMatchObject({ code: 'ENROLLMENT_CODE_INVALID' });
    const denials = await auditAfter(ts, 'agent.enroll', before);
    expect(denials.map((e) => [e.outcome, e.targetId, e.detail?.reason])).toEqual([['denied', d.id, 'code expired']]);
    expect(Agent.storedCredentials(join(agentsDir, d.serial))).toBeUndefined();
  });
});
