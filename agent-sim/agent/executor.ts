import { TetherError, type ErrorCode } from '#contract/errors';
import { COMMAND_CATALOG, commandSpec, type CommandName } from '#contract/protocol/commands';
import type { CommandDelivery, CommandUpdate } from '#contract/protocol/poll';
import type { GrantClaims, SessionScope } from '#contract/sessions';
import type { CommandJournal } from './command-journal.ts';
import { CommandOutputStream } from './command-output.ts';
import type { DiagnosticContext } from './device.ts';
import { type GrantCheck, grantRefusal } from './grants.ts';
import type { LocalAuditFile } from './local-audit.ts';

/**
 * What a handler is given besides its validated parameters: its abort signal, and where
 * to report progress and output lines (streamed to the console as `running` updates).
 */
export interface HandlerContext extends DiagnosticContext {
  readonly commandId: string;
  /** The service session a privileged command runs in. */
  readonly sessionId?: string;
}

export type CommandHandler = (params: Record<string, unknown>, context: HandlerContext) => Promise<unknown>;

/**
 * The agent's own consent check: verifies the grant a privileged command came with
 * (signature by the pinned key, device, session, scope, expiry, not revoked here).
 */
export interface PrivilegedCommandGuard {
  check(delivery: CommandDelivery, scope: SessionScope): Promise<GrantCheck>;
  /**
   * Checked again, synchronously, just before a verified command starts: its session may
   * have ended (or been revoked here) while the grant was being verified.
   */
  recheck(claims: GrantClaims): GrantCheck;
}

export interface ExecutorOptions {
  /** Without a guard every privileged command is refused. */
  guard?: PrivilegedCommandGuard;
  /** Progress and output of one command go up at most this often (default 200 ms). */
  outputIntervalMs?: number;
}

interface RunningCommand {
  readonly controller: AbortController;
  readonly sessionId: string | undefined;
  readonly output: CommandOutputStream;
}

/**
 * Runs the commands the server delivers, each id at most once: validated against the
 * catalog again (the agent trusts nothing it receives), privileged ones only with a grant
 * the agent verified itself, journaled before they run, abortable when canceled or when
 * their session ends, audited locally, and reported through `report`.
 */
export class CommandExecutor {
  private readonly handlers = new Map<CommandName, CommandHandler>();
  private readonly running = new Map<string, RunningCommand>();
  /** Privileged commands whose grant is being verified; true once canceled meanwhile. */
  private readonly verifying = new Map<string, boolean>();
  private stopped = false;

  constructor(
    private readonly journal: CommandJournal,
    private readonly audit: LocalAuditFile,
    private readonly report: (update: CommandUpdate, urgent: boolean) => void,
    private readonly options: ExecutorOptions = {},
  ) {}

  register(name: CommandName, handler: CommandHandler): void {
    this.handlers.set(name, handler);
  }

  get activeCount(): number {
    return this.running.size;
  }

  /**
   * Accepts a poll answer's commands. Each is journaled at once; basic commands are also
   * reported running (or refused) before this returns. Privileged ones are started or
   * refused once their grant is verified: then a promise is returned that settles when
   * all are — await it before building the next poll.
   */
  accept(deliveries: readonly CommandDelivery[]): Promise<void> | undefined {
    const verifications: Promise<void>[] = [];
    for (const delivery of deliveries) {
      const verification = this.acceptOne(delivery);
      if (verification) verifications.push(verification);
    }
    return verifications.length ? Promise.all(verifications).then(() => undefined) : undefined;
  }

  /** Aborts running commands; an id never seen is recorded canceled so it can never start. */
  cancel(ids: readonly string[]): void {
    for (const id of ids) {
      const running = this.running.get(id);
      if (running) {
        running.controller.abort();
        continue;
      }
      if (this.verifying.has(id)) {
        this.verifying.set(id, true);
        continue;
      }
      if (this.journal.accept(id)) {
        this.finish(id, 'unknown', { state: 'canceled' }, 'canceled before it started');
      } else {
        this.reReport(id);
      }
    }
  }

  /**
   * A service session ended: its running commands are aborted (they end `canceled` with
   * SESSION_ENDED and `message`). Returns how many were aborted.
   */
  endSession(sessionId: string, message: string): number {
    let aborted = 0;
    for (const command of this.running.values()) {
      if (command.sessionId !== sessionId) continue;
      command.controller.abort(new TetherError('SESSION_ENDED', message));
      aborted += 1;
    }
    return aborted;
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

  /** Aborts everything (agent shutting down); a command still being verified never starts. */
  abortAll(): void {
    this.stopped = true;
    for (const command of this.running.values()) command.controller.abort();
  }

  private acceptOne(delivery: CommandDelivery): Promise<void> | undefined {
    if (this.journal.has(delivery.id)) {
      this.audit.append('command.duplicate-ignored', 'ok', { commandId: delivery.id, name: delivery.name, attempt: delivery.attempt });
      this.reReport(delivery.id);
      return undefined;
    }
    const receivedAt = Date.now();
    this.journal.accept(delivery.id);
    const spec = Object.hasOwn(COMMAND_CATALOG, delivery.name) ? commandSpec(delivery.name) : undefined;
    if (spec?.privileged) return this.authorize(delivery, spec.scope, receivedAt);
    this.validateAndStart(delivery, receivedAt);
    return undefined;
  }

  /** Every privileged command, whoever sent it, runs only with a grant verified here. */
  private async authorize(delivery: CommandDelivery, scope: SessionScope | undefined, receivedAt: number): Promise<void> {
    this.verifying.set(delivery.id, false);
    let check: GrantCheck;
    try {
      if (!scope) check = grantRefusal('missing-scope', `the catalog names no session scope for ${delivery.name}`);
      else if (!this.options.guard) check = grantRefusal('no-key', 'this agent cannot verify grants');
      else check = await this.options.guard.check(delivery, scope);
    } catch (err) {
      check = grantRefusal('malformed', `the grant could not be verified (${(err as Error).message})`);
    }
    const canceled = this.verifying.get(delivery.id) === true;
    this.verifying.delete(delivery.id);
    if (this.stopped) return; // journaled but never started: reported interrupted after restart
    if (canceled) {
      this.finish(delivery.id, delivery.name, { state: 'canceled' }, 'canceled before it started');
      return;
    }
    if (check.ok && this.options.guard) check = this.options.guard.recheck(check.claims);
    if (!check.ok) {
      const message = `grant refused: ${check.message}`;
      this.refuse(delivery, { code: 'GRANT_INVALID', message }, { sessionId: delivery.sessionId ?? null, grantCheck: check.reason });
      return;
    }
    this.validateAndStart(delivery, receivedAt);
  }

  private validateAndStart(delivery: CommandDelivery, receivedAt: number): void {
    const spec = COMMAND_CATALOG[delivery.name];
    const handler = this.handlers.get(delivery.name);
    const params = spec?.params.safeParse(delivery.params);
    const ttlLeft = delivery.ttlMs - (Date.now() - receivedAt);
    if (!spec || !handler) return this.refuse(delivery, { code: 'UNKNOWN_COMMAND', message: `this agent has no command "${delivery.name}"` });
    if (!params?.success) {
      return this.refuse(delivery, { code: 'VALIDATION_FAILED', message: `invalid parameters: ${params?.error.issues.map((i) => i.message).join('; ')}` });
    }
    if (delivery.ttlMs <= 0 || ttlLeft <= 0) return this.refuse(delivery, { code: 'COMMAND_EXPIRED', message: 'the command expired before it reached the device' });
    this.start(delivery, handler, params.data as Record<string, unknown>, ttlLeft);
  }

  private refuse(delivery: CommandDelivery, error: { code: ErrorCode; message: string }, detail: Record<string, unknown> = {}): void {
    this.audit.append('command.refused', 'denied', { commandId: delivery.id, name: delivery.name, code: error.code, reason: error.message, ...detail });
    const state = error.code === 'COMMAND_EXPIRED' ? 'expired' : 'failed';
    this.finish(delivery.id, delivery.name, { state, error }, error.message, false);
  }

  private start(delivery: CommandDelivery, handler: CommandHandler, params: Record<string, unknown>, ttlMs: number): void {
    const { id, name } = delivery;
    const sessionId = COMMAND_CATALOG[name].privileged ? delivery.sessionId : undefined;
    const controller = new AbortController();
    const output = new CommandOutputStream(
      (chunk) => this.report({ id, state: 'running', at: Date.now(), ...chunk }, true),
      this.options.outputIntervalMs,
    );
    this.running.set(id, { controller, sessionId, output });
    this.audit.append('command.start', 'ok', { commandId: id, name, params, attempt: delivery.attempt, ...(sessionId ? { sessionId } : {}) });
    this.report({ id, state: 'running', at: Date.now() }, false);
    const expiry = setTimeout(() => controller.abort(new TetherError('COMMAND_EXPIRED', 'the command ran past its time limit')), ttlMs);
    const context: HandlerContext = {
      signal: controller.signal,
      commandId: id,
      ...(sessionId ? { sessionId } : {}),
      progress: (percent, message) => output.progress(percent, message),
      log: (line) => output.log(line),
    };
    let outcome: Promise<unknown>;
    try {
      outcome = Promise.resolve(handler(params, context));
    } catch (err) {
      outcome = Promise.reject(err); // a handler that throws at once fails its command, not the batch
    }
    const settle = (result: Pick<CommandUpdate, 'state' | 'result' | 'error'>, note: string) => {
      output.close(); // the last lines go up before the final state
      this.finish(id, name, result, note, true, sessionId);
    };
    outcome
      .then(
        (result) => settle({ state: 'succeeded', result }, 'succeeded'),
        (err: unknown) => {
          if (controller.signal.aborted) {
            const reason = controller.signal.reason as unknown;
            if (reason instanceof TetherError && reason.code === 'COMMAND_EXPIRED') {
              settle({ state: 'expired', error: { code: 'COMMAND_EXPIRED', message: reason.message } }, 'expired');
            } else if (reason instanceof TetherError && reason.code === 'SESSION_ENDED') {
              settle({ state: 'canceled', error: { code: 'SESSION_ENDED', message: reason.message } }, reason.message);
            } else {
              settle({ state: 'canceled' }, 'canceled');
            }
            return;
          }
          const error = err instanceof TetherError ? { code: err.code, message: err.message } : { code: 'COMMAND_FAILED' as const, message: (err as Error).message ?? String(err) };
          settle({ state: 'failed', error }, error.message);
        },
      )
      .finally(() => {
        clearTimeout(expiry);
        this.running.delete(id);
      });
  }

  private finish(
    id: string,
    name: string,
    outcome: Pick<CommandUpdate, 'state' | 'result' | 'error'>,
    note: string,
    audit = true,
    sessionId?: string,
  ): void {
    this.journal.finish(id, outcome);
    if (audit) {
      this.audit.append('command.end', outcome.state === 'succeeded' ? 'ok' : 'failed', {
        commandId: id,
        name,
        state: outcome.state,
        note,
        ...(outcome.error ? { error: outcome.error.code } : {}),
        ...(sessionId ? { sessionId } : {}),
      });
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
