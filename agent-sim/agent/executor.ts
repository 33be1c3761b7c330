import { TetherError, type ErrorCode } from '../../src/shared/errors.ts';
import { COMMAND_CATALOG, type CommandName } from '../../src/shared/protocol/commands.ts';
import type { CommandDelivery, CommandUpdate } from '../../src/shared/protocol/poll.ts';
import type { CommandJournal } from './command-journal.ts';
import type { LocalAuditFile } from './local-audit.ts';

/** What a handler is given besides its validated parameters. */
export interface HandlerContext {
  readonly signal: AbortSignal;
  readonly commandId: string;
}

export type CommandHandler = (params: Record<string, unknown>, context: HandlerContext) => Promise<unknown>;

/**
 * Runs the commands the server delivers, each id at most once: validated against the
 * catalog again (the agent trusts nothing it receives), journaled before it runs,
 * abortable when canceled, audited locally, and reported through `report`.
 */
export class CommandExecutor {
  private readonly handlers = new Map<CommandName, CommandHandler>();
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly journal: CommandJournal,
    private readonly audit: LocalAuditFile,
    private readonly report: (update: CommandUpdate, urgent: boolean) => void,
  ) {}

  register(name: CommandName, handler: CommandHandler): void {
    this.handlers.set(name, handler);
  }

  get activeCount(): number {
    return this.running.size;
  }

  /** Accepts a poll answer's commands. Acceptance is synchronous: journaled and reported running before this returns. */
  accept(deliveries: readonly CommandDelivery[]): void {
    for (const delivery of deliveries) this.acceptOne(delivery);
  }

  /** Aborts running commands; an id never seen is recorded canceled so it can never start. */
  cancel(ids: readonly string[]): void {
    for (const id of ids) {
      const controller = this.running.get(id);
      if (controller) {
        controller.abort();
        continue;
      }
      if (this.journal.accept(id)) {
        this.finish(id, 'unknown', { state: 'canceled' }, 'canceled before it started');
      } else {
        this.reReport(id);
      }
    }
  }

  /** Reports commands an earlier run of the agent left unfinished as interrupted (never re-run). */
  recoverInterrupted(): void {
    for (const id of this.journal.interrupted()) {
      this.finish(id, 'unknown', { state: 'failed', error: { code: 'COMMAND_INTERRUPTED', message: 'the agent restarted while this command was running; it was not run again' } }, 'interrupted by agent restart');
    }
  }

  /**
   * Reports again the outcome of commands that ended recently: after a crash the agent
   * cannot know which results reached the server, and the server ignores repeats.
   */
  reReportRecent(sinceMs: number): void {
    for (const id of this.journal.finishedSince(sinceMs)) this.reReport(id);
  }

  /** Aborts everything (agent shutting down). */
  abortAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }

  private acceptOne(delivery: CommandDelivery): void {
    if (this.journal.has(delivery.id)) {
      this.audit.append('command.duplicate-ignored', 'ok', { commandId: delivery.id, name: delivery.name, attempt: delivery.attempt });
      this.reReport(delivery.id);
      return;
    }
    const spec = COMMAND_CATALOG[delivery.name];
    const handler = this.handlers.get(delivery.name);
    const params = spec?.params.safeParse(delivery.params);
    let refusal: { code: ErrorCode; message: string } | undefined;
    if (!spec || !handler) refusal = { code: 'UNKNOWN_COMMAND', message: `this agent has no command "${delivery.name}"` };
    else if (!params?.success) refusal = { code: 'VALIDATION_FAILED', message: `invalid parameters: ${params?.error.issues.map((i) => i.message).join('; ')}` };
    else if (delivery.ttlMs <= 0) refusal = { code: 'COMMAND_EXPIRED', message: 'the command expired before it reached the device' };

    this.journal.accept(delivery.id);
    if (refusal || !handler || !params?.success) {
      const state = refusal?.code === 'COMMAND_EXPIRED' ? 'expired' : 'failed';
      this.audit.append('command.refused', 'denied', { commandId: delivery.id, name: delivery.name, reason: refusal?.message });
      this.finish(delivery.id, delivery.name, { state, error: refusal ?? { code: 'COMMAND_FAILED', message: 'refused' } }, refusal?.message ?? 'refused', false);
      return;
    }

    const controller = new AbortController();
    this.running.set(delivery.id, controller);
    this.audit.append('command.start', 'ok', { commandId: delivery.id, name: delivery.name, params: params.data, attempt: delivery.attempt });
    this.report({ id: delivery.id, state: 'running', at: Date.now() }, false);
    const expiry = setTimeout(() => controller.abort(new TetherError('COMMAND_EXPIRED', 'the command ran past its time limit')), delivery.ttlMs);
    let outcome: Promise<unknown>;
    try {
      outcome = Promise.resolve(handler(params.data as Record<string, unknown>, { signal: controller.signal, commandId: delivery.id }));
    } catch (err) {
      outcome = Promise.reject(err); // a handler that throws at once fails its command, not the batch
    }
    outcome
      .then(
        (result) => this.finish(delivery.id, delivery.name, { state: 'succeeded', result }, 'succeeded'),
        (err: unknown) => {
          if (controller.signal.aborted) {
            const reason = controller.signal.reason as unknown;
            if (reason instanceof TetherError && reason.code === 'COMMAND_EXPIRED') {
              this.finish(delivery.id, delivery.name, { state: 'expired', error: { code: 'COMMAND_EXPIRED', message: reason.message } }, 'expired');
            } else {
              this.finish(delivery.id, delivery.name, { state: 'canceled' }, 'canceled');
            }
            return;
          }
          const error = err instanceof TetherError ? { code: err.code, message: err.message } : { code: 'COMMAND_FAILED' as const, message: (err as Error).message ?? String(err) };
          this.finish(delivery.id, delivery.name, { state: 'failed', error }, error.message);
        },
      )
      .finally(() => {
        clearTimeout(expiry);
        this.running.delete(delivery.id);
      });
  }

  private finish(
    id: string,
    name: string,
    outcome: Pick<CommandUpdate, 'state' | 'result' | 'error'>,
    note: string,
    audit = true,
  ): void {
    this.journal.finish(id, outcome);
    if (audit) {
      this.audit.append('command.end', outcome.state === 'succeeded' ? 'ok' : 'failed', { commandId: id, name, state: outcome.state, note });
    }
    this.report({ id, at: Date.now(), ...outcome }, true);
  }

  /** Tells the server again what became of a command it delivered twice. */
  private reReport(id: string): void {
    const record = this.journal.get(id);
    if (!record) return;
    if (record.state === 'accepted') {
      this.report({ id, state: 'running', at: record.at }, false);
    } else {
      this.report({ id, state: record.state, at: record.at, ...(record.result !== undefined ? { result: record.result } : {}), ...(record.error ? { error: record.error } : {}) }, true);
    }
  }
}
