import { type ChildProcess, spawn } from 'node:child_process';
import { backoffDelay, type BackoffPolicy } from '#contract/backoff';

export interface SupervisorOptions {
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  backoff?: BackoffPolicy;
  /** A child that stays up this long is considered healthy: the backoff starts over. */
  stableAfterMs?: number;
  log?: (message: string) => void;
  /** Exit codes that mean "restarting will not help" (bad configuration): supervision ends. */
  permanentExitCodes?: readonly number[];
  /** Called with each new child (tests watch pids through it). */
  onStart?: (child: ChildProcess) => void;
}

/**
 * Keeps the agent running 24x7: starts it as a child process and, when it dies for any
 * reason other than being asked to stop, starts it again after a jittered, growing
 * delay. SIGINT/SIGTERM are passed on and end supervision once the child has exited.
 */
export class Supervisor {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restarts = 0;
  private failuresInARow = 0;
  private timer: NodeJS.Timeout | undefined;
  private resolveDone: ((code: number) => void) | undefined;
  readonly done: Promise<number>;

  constructor(private readonly options: SupervisorOptions) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  get restartCount(): number {
    return this.restarts;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const startedAt = Date.now();
    const child = spawn(this.options.command, [...this.options.args], { env: this.options.env ?? process.env, stdio: ['ignore', 'inherit', 'inherit'] });
    this.child = child;
    this.options.onStart?.(child);
    child.once('exit', (code, signal) => {
      this.child = undefined;
      if (this.stopping) {
        this.resolveDone?.(code ?? 0);
        return;
      }
      if (code !== null && this.options.permanentExitCodes?.includes(code)) {
        this.options.log?.(`agent exited with code ${code} (configuration error); not restarting`);
        this.resolveDone?.(code);
        return;
      }
      const stable = Date.now() - startedAt >= (this.options.stableAfterMs ?? 60_000);
      this.failuresInARow = stable ? 0 : this.failuresInARow + 1;
      const delay = backoffDelay(this.options.backoff ?? { baseMs: 1000, maxMs: 60_000 }, this.failuresInARow);
      this.options.log?.(`agent exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
      this.restarts += 1;
      this.timer = setTimeout(() => this.start(), delay);
    });
  }

  /** Stops supervising: signals the child and resolves `done` with its exit code. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.child) this.child.kill(signal);
    else this.resolveDone?.(0);
    return this.done;
  }
}
