import { type ChildProcess, fork } from 'node:child_process';

/** A request table: request name → argument and result types (see messages.ts). */
export type RequestTable<T> = { [M in keyof T]: { args: unknown; result: unknown } };

interface RequestMessage {
  kind: 'request';
  seq: number;
  method: string;
  args: unknown;
}

type ReplyMessage =
  | { kind: 'reply'; seq: number; ok: true; result: unknown }
  | { kind: 'reply'; seq: number; ok: false; error: string };

interface EventMessage {
  kind: 'event';
  event: unknown;
}

type ChildMessage = ReplyMessage | EventMessage;

/** The current time on the clock every bench process shares (epoch ms, sub-ms precision). */
export function benchNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A child process of the benchmark, seen from the orchestrator: typed requests with
 * replies, unsolicited events, and an end that never leaves it running. The child's
 * stdout goes to our stderr so that `--json` output stays one clean line.
 */
export class BenchChild<T extends RequestTable<T>, E = never> {
  private readonly process: ChildProcess;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  private seq = 0;
  private exited = false;

  constructor(
    readonly name: string,
    script: URL,
    onEvent: (event: E) => void = () => undefined,
    extraExecArgv: readonly string[] = [],
  ) {
    this.process = fork(script, [], {
      execArgv: ['--import', 'tsx', '--expose-gc', ...extraExecArgv],
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    this.process.on('message', (raw: ChildMessage) => {
      if (raw.kind === 'event') {
        onEvent(raw.event as E);
        return;
      }
      const waiter = this.pending.get(raw.seq);
      if (!waiter) return;
      this.pending.delete(raw.seq);
      if (raw.ok) waiter.resolve(raw.result);
      else waiter.reject(new Error(`${this.name}: ${raw.error}`));
    });
    this.process.once('exit', (code, signal) => {
      this.exited = true;
      const reason = new Error(`${this.name} exited (${signal ?? code}) with requests unanswered`);
      for (const waiter of this.pending.values()) waiter.reject(reason);
      this.pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  call<M extends keyof T & string>(method: M, args: T[M]['args']): Promise<T[M]['result']> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running`));
    const seq = ++this.seq;
    const message: RequestMessage = { kind: 'request', seq, method, args };
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (value: unknown) => void, reject });
      this.process.send(message, (err) => {
        if (!err) return;
        this.pending.delete(seq);
        reject(err);
      });
    });
  }

  /** Waits for the child to exit on its own; kills this child (by its handle) after `graceMs`. */
  end(graceMs: number): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
      this.process.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Ends the child at once. */
  kill(): void {
    if (!this.exited) this.process.kill('SIGKILL');
  }
}

/** Handlers for every request in a table; each may be async. */
export type RequestHandlers<T extends RequestTable<T>> = { [M in keyof T]: (args: T[M]['args']) => Promise<T[M]['result']> | T[M]['result'] };

/**
 * The child side: answers the orchestrator's requests with `handlers`. A request named
 * `stop` ends the process once its answer is sent; the child also exits when the
 * orchestrator goes away (IPC disconnect), so a crashed run leaves nothing behind.
 */
export function serveRequests<T extends RequestTable<T>>(handlers: RequestHandlers<T>): void {
  if (!process.send) throw new Error('this program is started by bench/agents.ts, not directly');
  process.on('message', (raw: RequestMessage) => {
    if (raw.kind !== 'request') return;
    const handler = (handlers as Record<string, (args: unknown) => unknown>)[raw.method];
    const reply = (message: ReplyMessage) =>
      process.send?.(message, undefined, undefined, () => {
        if (raw.method === 'stop') process.exit(0);
      });
    if (!handler) {
      reply({ kind: 'reply', seq: raw.seq, ok: false, error: `unknown request ${raw.method}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(raw.args))
      .then(
        (result) => reply({ kind: 'reply', seq: raw.seq, ok: true, result: result ?? null }),
        (err: unknown) => reply({ kind: 'reply', seq: raw.seq, ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
}

/** The child side: tells the orchestrator something unasked. */
export function sendEvent<E>(event: E): void {
  const message: EventMessage = { kind: 'event', event };
  process.send?.(message);
}
