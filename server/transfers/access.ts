import { TetherError } from '#contract/errors';
import type { CreateTransferRequestSchema } from '#contract/api/transfers';
import type { z } from 'zod';
import type { ServerContext } from '../context.ts';
import { type Principal, can } from '../access/principal.ts';
import type { FleetService } from '../devices/fleet-service.ts';
import type { SessionGate } from '../sessions/session-gate.ts';
import type { DeviceRow, TransferRow } from '../store/schema.ts';
import type { TransferActor, TransferLifecycle } from './lifecycle.ts';

type CreateTransferInput = z.output<typeof CreateTransferRequestSchema>;

/** Who asks about a transfer's bytes: a signed-in console user, or a device's agent. */
export type TransferParty = { kind: 'console'; principal: Principal; ip: string | null } | { kind: 'agent'; device: DeviceRow; ip: string | null };

export const userActor = (p: Principal, ip: string | null): TransferActor => ({ actorType: 'user', actorId: p.id, actorName: p.username, ip });
export const partyActor = (party: TransferParty): TransferActor =>
  party.kind === 'console' ? userActor(party.principal, party.ip) : { actorType: 'device', actorId: party.device.id, actorName: party.device.serial, ip: party.ip };

/**
 * Who may see and touch a transfer. Seeing: anyone whose scope holds the device (else
 * NOT_FOUND, no existence leak). Bytes and actions: on the console, the controller of its
 * active session; on the device, its own agent only — and each only on its own side
 * (the sender uploads, the receiver reads and acknowledges). Refusals are audited.
 */
export class TransferAccess {
  constructor(
    private readonly ctx: ServerContext,
    private readonly fleet: FleetService,
    private readonly sessions: SessionGate,
    private readonly lifecycle: TransferLifecycle,
  ) {}

  /**
   * Which side may touch a transfer's bytes. Console: the controller of its active session
   * (engineer or administrator in scope); agent: its own device only. `send` is the
   * uploading side, `receive` the downloading one.
   */
  async authorizeParty(party: TransferParty, id: string, side: 'send' | 'receive'): Promise<TransferRow> {
    if (party.kind === 'agent') {
      const row = await this.forAgent(party.device, id, party.ip);
      const agentSide = row.direction === 'to-device' ? 'receive' : 'send';
      if (agentSide !== side) throw await this.denied(row, partyActor(party), `transfer.${side}`, new TetherError('FORBIDDEN', `the device ${row.direction === 'to-device' ? 'receives' : 'sends'} this file`));
      return row;
    }
    const row = await this.visible(party.principal, id);
    const consoleSide = row.direction === 'to-device' ? 'send' : 'receive';
    try {
      if (!can(party.principal, 'command')) throw new TetherError('FORBIDDEN', `your role (${party.principal.role}) may not transfer files`);
      if (consoleSide !== side) throw new TetherError('FORBIDDEN', `the console ${consoleSide === 'send' ? 'sends' : 'receives'} this file`);
      await this.sessions.requireControlledSession(party.principal, row.session_id, row.device_id, 'files');
    } catch (err) {
      if (err instanceof TetherError) throw await this.denied(row, partyActor(party), `transfer.${side}`, err);
      throw err;
    }
    return row;
  }

  /** A transfer the principal may see (its device in scope), else NOT_FOUND. */
  async visible(principal: Principal, id: string): Promise<TransferRow> {
    const row = await this.ctx.db.selectFrom('transfers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new TetherError('NOT_FOUND', `no transfer ${id}`);
    await this.fleet.requireDevice(principal, row.device_id).catch(() => {
      throw new TetherError('NOT_FOUND', `no transfer ${id}`);
    });
    return row;
  }

  /** A transfer of this agent's own device; another device's is NOT_FOUND (and audited). */
  async forAgent(device: DeviceRow, id: string, ip: string | null): Promise<TransferRow> {
    const row = await this.ctx.db.selectFrom('transfers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || row.device_id !== device.id) {
      await this.ctx.audit.append({
        actorType: 'device',
        actorId: device.id,
        actorName: device.serial,
        action: 'transfer.access',
        targetType: 'transfer',
        targetId: id,
        outcome: 'denied',
        ip,
        detail: { reason: row ? 'a transfer of another device' : 'no such transfer' },
      });
      throw new TetherError('NOT_FOUND', `no transfer ${id} for this device`);
    }
    return row;
  }

  async denied(row: TransferRow, actor: TransferActor, action: string, err: TetherError): Promise<TetherError> {
    await this.ctx.db.transaction().execute((trx) => this.lifecycle.audit(trx, row, actor, action, 'denied', { code: err.code, reason: err.message }));
    return err;
  }

  async refused(principal: Principal, deviceId: string, input: Pick<CreateTransferInput, 'direction' | 'devicePath' | 'sessionId'>, err: TetherError, ip: string | null): Promise<void> {
    await this.ctx.audit.append({
      ...userActor(principal, ip),
      action: 'transfer.create',
      targetType: 'device',
      targetId: deviceId,
      outcome: 'denied',
      detail: { direction: input.direction, path: input.devicePath, sessionId: input.sessionId, code: err.code, reason: err.message },
    });
  }

  /** Audits a create request the route refused before it reached `create` (malformed body). */
  async refuseMalformed(principal: Principal, deviceId: string, body: unknown, err: TetherError, ip: string | null): Promise<never> {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 1024) : null);
    await this.ctx.audit.append({
      ...userActor(principal, ip),
      action: 'transfer.create',
      targetType: 'device',
      targetId: deviceId,
      outcome: 'denied',
      detail: { direction: text(b.direction), path: text(b.devicePath), sessionId: text(b.sessionId), code: err.code, reason: err.message },
    });
    throw err;
  }

}
