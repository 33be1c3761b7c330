import { TetherError, type ErrorCode } from '#contract/errors';
import { ListFilesResponseSchema, type ListFilesResponse } from '#contract/api/transfers';
import { DEVICE_MODELS, isDeviceModelId } from '#contract/device-models';
import { checkDevicePath } from '#contract/transfers';
import type { ServerContext } from '../context.ts';
import type { Principal } from '../access/principal.ts';
import type { CommandService } from '../commands/command-service.ts';
import type { FleetService } from '../devices/fleet-service.ts';

const TERMINAL = ['succeeded', 'failed', 'expired', 'canceled'];

/**
 * The remote file browser: a `list-files` command in the caller's session, awaited for a
 * bounded time. The answer is the device's listing, or the device's own refusal (its code
 * and words), or COMMAND_EXPIRED when it did not answer in time.
 */
export class FileLister {
  constructor(
    private readonly ctx: ServerContext,
    private readonly fleet: FleetService,
    private readonly commands: CommandService,
    private readonly waitMs = 20_000,
  ) {}

  async list(principal: Principal, deviceId: string, input: { sessionId: string; path: string }, ip: string | null): Promise<ListFilesResponse> {
    const device = await this.fleet.requireDevice(principal, deviceId);
    if (input.path !== '/' && isDeviceModelId(device.model_id)) checkDevicePath(input.path, DEVICE_MODELS[device.model_id].files.roots);
    const { id: commandId } = await this.commands.create(principal, deviceId, { name: 'list-files', params: { path: input.path }, sessionId: input.sessionId, ttlSeconds: Math.ceil(this.waitMs / 1000) }, ip);
    await this.ended(commandId);
    const row = await this.ctx.db.selectFrom('commands').select(['state', 'result', 'error']).where('id', '=', commandId).executeTakeFirstOrThrow();
    if (row.state === 'succeeded') {
      const parsed = ListFilesResponseSchema.safeParse(row.result ? JSON.parse(row.result) : null);
      if (!parsed.success) throw new TetherError('COMMAND_FAILED', 'the device returned a malformed listing');
      return parsed.data;
    }
    if (TERMINAL.includes(row.state)) {
      const error = row.error ? (JSON.parse(row.error) as { code: ErrorCode; message: string }) : { code: 'COMMAND_FAILED' as const, message: `the listing ended ${row.state}` };
      throw new TetherError(error.code, error.message);
    }
    await this.commands.cancel(principal, commandId, ip).catch((err: unknown) => this.ctx.log.warn({ err, commandId }, 'could not cancel an unanswered listing'));
    throw new TetherError('COMMAND_EXPIRED', `the device did not answer within ${Math.round(this.waitMs / 1000)} s`);
  }

  /** Resolves when the command ended, or when the wait ran out. */
  private ended(commandId: string): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        clearInterval(ticker);
        stop();
        resolve();
      };
      const stop = this.ctx.bus.subscribe('live', ({ event }) => {
        if (event.type === 'command.state' && event.command.id === commandId && TERMINAL.includes(event.command.state)) finish();
      });
      const timer = setTimeout(finish, this.waitMs);
      // the row is the truth (an end announced before this listened, or on another node): look now and then
      const ticker = setInterval(() => {
        this.isDone(commandId).then(
          (done) => done && finish(),
          (err: unknown) => this.ctx.log.warn({ err, commandId }, 'could not read a listing command'),
        );
      }, 1000);
    });
  }

  private async isDone(commandId: string): Promise<boolean> {
    const row = await this.ctx.db.selectFrom('commands').select('state').where('id', '=', commandId).executeTakeFirst();
    return Boolean(row && TERMINAL.includes(row.state));
  }
}
