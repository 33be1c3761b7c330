import { randomBytes } from 'node:crypto';
import { TetherError } from '#contract/errors';
import type { LiveEvent } from '#contract/api/live';
import type { EnrollRequest, EnrollResponse, GoodbyeRequest } from '#contract/protocol/enroll';
import type { ParsedPollRequest, PollResponse } from '#contract/protocol/poll';
import type { ServerContext } from '../context.ts';
import { hashOpaqueToken } from '../auth/tokens.ts';
import type { CommandService } from '../commands/command-service.ts';
import { normaliseEnrollmentCode } from '../devices/fleet-service.ts';
import type { HistoryPruner } from '../devices/history-pruner.ts';
import { ingestTelemetry, recordDeviceEvent } from '../devices/telemetry.ts';
import { isoOf } from '../devices/views.ts';
import { publishLive } from '../live/publish.ts';
import { signDeviceCsr } from '../pki/certificates.ts';
import type { GrantIssuer } from '../sessions/grants.ts';
import type { SessionEnds } from '../sessions/session-participant.ts';
import type { SessionService } from '../sessions/session-service.ts';
import type { DeviceRow } from '../store/schema.ts';
import type { PollRegistry } from './poll-registry.ts';

/**
 * What device agents' requests do, as transactions: enrollment, the poll (its contact
 * record, then the held wait for work) and goodbye. The routes only authenticate the
 * device, call one of these and answer. The poll is the hot path: an idle poll costs one
 * statement, and nothing is announced before its transaction committed.
 */
export class AgentService {
  constructor(
    private readonly ctx: ServerContext,
    private readonly commands: CommandService,
    private readonly sessions: SessionService,
    private readonly grants: GrantIssuer,
    private readonly polls: PollRegistry,
    private readonly history: HistoryPruner,
  ) {}

  /** Exchanges a one-time enrollment code and a CSR for the device's certificate and secret. Refusals are audited. */
  async enroll(body: EnrollRequest, ip: string | null): Promise<EnrollResponse> {
    const { ctx } = this;
    const now = Date.now();
    const codeHash = hashOpaqueToken(normaliseEnrollmentCode(body.enrollmentCode));
    const code = await ctx.db
      .selectFrom('enrollment_codes')
      .innerJoin('devices', 'devices.id', 'enrollment_codes.device_id')
      .select(['enrollment_codes.device_id', 'enrollment_codes.used_at', 'enrollment_codes.expires_at', 'devices.serial', 'devices.model_id', 'devices.customer_id'])
      .where('enrollment_codes.code_hash', '=', codeHash)
      .executeTakeFirst();
    const refusal = !code ? 'unknown code' : code.used_at !== null ? 'code already used' : Number(code.expires_at) <= now ? 'code expired' : undefined;
    if (!code || refusal) {
      await ctx.audit.append({ actorType: 'anonymous', action: 'agent.enroll', outcome: 'denied', ip, targetType: 'device', targetId: code?.device_id ?? null, detail: { reason: refusal } });
      throw new TetherError('ENROLLMENT_CODE_INVALID', `enrollment refused: ${refusal}; ask for a new code`);
    }
    let signed: { certPem: string; fingerprint256: string };
    try {
      signed = await signDeviceCsr(ctx.pki.deviceCa, body.csrPem, code.device_id);
    } catch (err) {
      throw new TetherError('VALIDATION_FAILED', `the certificate request is not usable: ${(err as Error).message}`);
    }
    const secret = randomBytes(32).toString('base64url');
    const live = await ctx.db.transaction().execute(async (trx) => {
      const claimed = await trx
        .updateTable('enrollment_codes')
        .set({ used_at: now })
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (claimed.numUpdatedRows === 0n) throw new TetherError('ENROLLMENT_CODE_INVALID', 'enrollment refused: code already used');
      await trx
        .updateTable('devices')
        .set({
          enrolled_at: now,
          cert_fingerprint: signed.fingerprint256,
          secret_hash: hashOpaqueToken(secret),
          software_version: body.softwareVersion,
          agent_version: body.agent.version,
        })
        .where('id', '=', code.device_id)
        .execute();
      await ctx.audit.appendIn(trx, {
        actorType: 'device',
        actorId: code.device_id,
        action: 'agent.enroll',
        targetType: 'device',
        targetId: code.device_id,
        outcome: 'ok',
        ip,
        detail: { serial: code.serial, certificate: signed.fingerprint256, agentVersion: body.agent.version },
      });
      return recordDeviceEvent(trx, { device_id: code.device_id, at: now, type: 'agent.enrolled', severity: 'info', message: `Agent enrolled (version ${body.agent.version})`, data: null });
    });
    publishLive(ctx.bus, code.customer_id, live);
    return {
      deviceId: code.device_id,
      serial: code.serial,
      modelId: code.model_id,
      certificatePem: signed.certPem,
      deviceCaPem: ctx.pki.deviceCa.certPem,
      deviceSecret: secret,
      grantPublicKeyPem: this.grants.publicKeyPem,
      pollWindowMs: ctx.config.pollWindowMs,
    };
  }

  /**
   * One poll of an authenticated device. A report beside the held poll (`waitMs: 0`) is
   * stored and answered with nothing: commands only ever travel on the held poll, so an
   * unacknowledged delivery means a lost answer. A held poll records its contact, then
   * answers with work, when woken (session state may have changed), or at the window's
   * end — or at once, empty, when superseded or when `connection` aborts (the agent went away).
   */
  async poll(device: DeviceRow, body: ParsedPollRequest, connection: AbortSignal): Promise<PollResponse> {
    if (body.waitMs === 0) {
      await this.recordContact(device, body);
      return this.answer({ commands: [], cancels: [] }, undefined);
    }
    // registered before the first look for work: no wake-up can fall between the look and the wait
    const handle = this.polls.hold(device.id);
    const abort = () => handle.abort();
    connection.addEventListener('abort', abort, { once: true });
    try {
      await this.recordContact(device, body);
      const window = Math.min(body.waitMs ?? this.ctx.config.pollWindowMs, this.ctx.config.pollWindowMs);
      const deadline = Date.now() + window;
      let woken = false;
      for (;;) {
        const work = await this.commands.takeDeliverable(device.id, device.customer_id);
        const remaining = deadline - Date.now();
        if (work.commands.length || work.cancels.length || woken || remaining <= 0) {
          return this.answer(work, await this.sessions.deviceState(device.id));
        }
        const reason = await handle.wait(remaining);
        if (reason !== 'work') return this.answer({ commands: [], cancels: [] }, await this.sessions.deviceState(device.id));
        woken = true;
      }
    } finally {
      connection.removeEventListener('abort', abort);
      handle.release();
    }
  }

  /** An orderly shutdown: the device goes offline (not missing), and its held poll is answered at once. */
  async goodbye(device: DeviceRow, reason: GoodbyeRequest['reason']): Promise<void> {
    const { ctx } = this;
    const now = Date.now();
    const live = await ctx.db.transaction().execute(async (trx) => {
      await trx.updateTable('devices').set({ status: 'offline', status_changed_at: now, last_contact_at: now }).where('id', '=', device.id).execute();
      return recordDeviceEvent(trx, {
        device_id: device.id,
        at: now,
        type: 'status.offline',
        severity: 'info',
        message: `Agent signed off (${reason})`,
        data: JSON.stringify({ reason }),
      });
    });
    publishLive(ctx.bus, device.customer_id, { type: 'device.status', deviceId: device.id, status: 'offline', at: isoOf(now), lastContactAt: isoOf(now) });
    publishLive(ctx.bus, device.customer_id, live);
    this.polls.end(device.id);
  }

  /** A poll answer; held polls carry the device's session state in full, reports none. */
  private answer(
    work: Pick<PollResponse, 'commands' | 'cancels'>,
    sessions: Pick<PollResponse, 'consents' | 'sessions' | 'endedSessions'> | undefined,
  ): PollResponse {
    return { ...work, ...sessions, pollWindowMs: this.ctx.config.pollWindowMs, serverTime: Date.now() };
  }

  /**
   * Everything a poll says before it waits, in one transaction: contact time and status,
   * versions, telemetry, command progress, the operator's consent answers. Consoles hear
   * of it after the commit.
   */
  private async recordContact(device: DeviceRow, body: ParsedPollRequest): Promise<void> {
    const { ctx } = this;
    const now = Date.now();
    const routine = device.status === 'online' && device.agent_boot_id === body.agent.bootId && device.agent_version === body.agent.version
      && device.software_version === body.softwareVersion && body.dropped === 0
      && !body.dataItems.length && !body.events.length && !body.alarms.length && !body.commandUpdates.length
      && !body.consentDecisions.length && !body.sessionRevocations.length;
    if (routine) {
      // The common idle poll: only the contact time changes — one statement, no transaction.
      await ctx.db.updateTable('devices').set({ last_contact_at: now }).where('id', '=', device.id).execute();
      return;
    }
    const sessionEnds: SessionEnds = [];
    const { live, commandChanges, sessionChanges } = await ctx.db.transaction().execute(async (trx) => {
      const live: LiveEvent[] = [];
      const cameOnline = device.status !== 'online';
      await trx
        .updateTable('devices')
        .set({
          last_contact_at: now,
          agent_version: body.agent.version,
          software_version: body.softwareVersion,
          agent_boot_id: body.agent.bootId,
          ...(cameOnline ? { status: 'online' as const, status_changed_at: now } : {}),
        })
        .where('id', '=', device.id)
        .execute();
      if (cameOnline) {
        live.push({ type: 'device.status', deviceId: device.id, status: 'online', at: isoOf(now), lastContactAt: isoOf(now) });
        const away = device.last_contact_at === null ? 'first contact' : `back after ${formatDuration(now - Number(device.last_contact_at))}`;
        live.push(await recordDeviceEvent(trx, { device_id: device.id, at: now, type: 'status.online', severity: 'info', message: `Device online (${away})`, data: null }));
      }
      if (device.agent_boot_id && device.agent_boot_id !== body.agent.bootId) {
        live.push(await recordDeviceEvent(trx, { device_id: device.id, at: now, type: 'agent.restarted', severity: 'info', message: `Agent restarted (version ${body.agent.version})`, data: null }));
      }
      if (body.dropped > 0) {
        live.push(await recordDeviceEvent(trx, {
          device_id: device.id,
          at: now,
          type: 'agent.reports-dropped',
          severity: 'warning',
          message: `Agent dropped ${body.dropped} report(s) while the server was unreachable`,
          data: JSON.stringify({ dropped: body.dropped }),
        }));
      }
      live.push(...(await ingestTelemetry(trx, device.id, body)));
      const updates = await this.commands.applyAgentUpdates(trx, device.id, device.customer_id, body.commandUpdates);
      live.push(...updates.live);
      const sessionChanges = await this.sessions.applyFromDevice(trx, device.id, body.consentDecisions, body.sessionRevocations, sessionEnds);
      return { live, commandChanges: updates.changes, sessionChanges };
    });
    if (body.dataItems.length) this.history.markDirty(device.id, new Set(body.dataItems.map((i) => i.key)));
    for (const event of live) publishLive(ctx.bus, device.customer_id, event);
    await this.commands.announce(commandChanges);
    await this.sessions.announce(sessionChanges, sessionEnds);
  }
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  return `${Math.round(m / 60)} h`;
}
