import { readFileSync } from 'node:fs';
import { TetherError } from '#contract/errors';
import type { OperatorState, SimulatorStatus } from '#contract/ipc';
import {
  type SimAck,
  type SimAckFor,
  type SimControlCommand,
  type SimErrorLine,
  type SimOutputLine,
  SimFaultSchema,
  SimOutputLineSchema,
} from '#contract/simulator-control';
import type { LaunchedProcess, ProcessLauncher } from './process-launcher.ts';

/** What the console needs to sign in to a running simulator. */
export interface SimulatorEndpoint {
  url: string;
  caPem: string;
  username: string;
  password: string;
  devices: number;
}

/**
 * A control command as the supervisor sends it: the id is its own, to pair the answer;
 * never `stop`, which has no acknowledgement (the supervisor ends the process instead).
 */
type SimControlRequest = WithoutId<Exclude<SimControlCommand, { cmd: 'stop' }>>;
type WithoutId<C> = C extends unknown ? Omit<C, 'id'> : never;

/** How a command awaiting its answer is told: the simulator's answer, or why none will come in the expected form. */
type ControlWaiter = (answer: SimAck | SimErrorLine | TetherError) => void;

/**
 * Runs the offline simulator (`agent-sim/offline.ts`) for the console: starts it with the
 * requested fleet size, waits for its JSON ready line, sends it control commands (faults,
 * the operator's answers) and reads every line it prints by the protocol both share
 * (contract/simulator-control.ts), and stops it with the app. Its state is reported as it
 * changes.
 */
export class SimulatorSupervisor {
  private process: LaunchedProcess | undefined;
  private endpoint: SimulatorEndpoint | undefined;
  private starting: Promise<SimulatorEndpoint> | undefined;
  private current: SimulatorStatus = { phase: 'idle', devices: null, message: null };
  /** Control commands awaiting their answer, by id (the simulator answers out of order). */
  private readonly waiters = new Map<number, ControlWaiter>();
  private nextControlId = 1;

  constructor(
    private readonly launcher: ProcessLauncher,
    private readonly options: {
      dataDir: string;
      onStatus: (status: SimulatorStatus) => void;
      /** A simulated device's operator view changed. */
      onOperator?: (state: OperatorState) => void;
      readyTimeoutMs?: number;
    },
  ) {}

  status(): SimulatorStatus {
    return this.current;
  }

  /** The running simulator, started (or restarted with the new size) when needed. */
  async ensureRunning(devices: number): Promise<SimulatorEndpoint> {
    if (this.starting) {
      // a start is under way: let it finish, then check it has the size asked for
      await this.starting.catch(() => undefined);
      return this.ensureRunning(devices);
    }
    if (this.endpoint && this.endpoint.devices === devices) return this.endpoint;
    if (this.endpoint) await this.stop();
    this.starting = this.start(devices).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** Injects a fault the simulator knows (an unknown one is refused here, as the simulator would). */
  injectFault(serial: string, fault: string): Promise<void> {
    const known = SimFaultSchema.safeParse(fault);
    if (!known.success) return Promise.reject(new TetherError('VALIDATION_FAILED', known.error.issues.map((i) => i.message).join('; ')));
    return this.control({ cmd: 'fault', serial, fault: known.data }).then(() => undefined);
  }

  clearFaults(serial: string): Promise<void> {
    return this.control({ cmd: 'clear', serial }).then(() => undefined);
  }

  /** What the operator at a simulated device sees now. */
  async operatorState(serial: string): Promise<OperatorState> {
    const { event: _event, id: _id, cmd: _cmd, ...state } = await this.control({ cmd: 'operator', serial });
    return state;
  }

  /** The operator at the simulated device approves or denies a consent request. */
  decideConsent(serial: string, sessionId: string, approve: boolean, operator: string): Promise<void> {
    return this.control({ cmd: approve ? 'approve' : 'deny', serial, sessionId, as: operator }).then(() => undefined);
  }

  /** The operator at the simulated device ends a session. */
  revokeSession(serial: string, sessionId: string, operator: string): Promise<void> {
    return this.control({ cmd: 'revoke', serial, sessionId, as: operator }).then(() => undefined);
  }

  async stop(): Promise<void> {
    const running = this.process;
    if (!running) return;
    this.setStatus({ phase: 'stopping', devices: this.endpoint?.devices ?? null, message: 'Stopping the simulator…' });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 15_000);
      running.onExit(() => {
        clearTimeout(timer);
        resolve();
      });
      running.kill();
    });
  }

  private start(devices: number): Promise<SimulatorEndpoint> {
    this.setStatus({ phase: 'starting', devices, message: `Starting the simulator with ${devices} devices…` });
    const child = this.launcher.launch(['--json', '--devices', String(devices), '--data-dir', this.options.dataDir]);
    this.process = child;
    let stderr = '';
    child.onStderr((text) => {
      stderr = (stderr + text).slice(-4000);
    });
    return new Promise<SimulatorEndpoint>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        fail(`the simulator did not become ready within ${Math.round((this.options.readyTimeoutMs ?? 180_000) / 1000)} s`);
      }, this.options.readyTimeoutMs ?? 180_000);
      const fail = (message: string) => {
        clearTimeout(timer);
        this.setStatus({ phase: 'failed', devices, message });
        reject(new TetherError('SIMULATOR_FAILED', message));
      };
      child.onLine((text) => {
        const line = this.readLine(text);
        if (!line) return;
        switch (line.event) {
          case 'ready':
            if (this.endpoint) return;
            clearTimeout(timer);
            this.endpoint = { url: line.url, caPem: readFileSync(line.caCert, 'utf8'), username: line.username, password: line.password, devices: line.devices };
            this.setStatus({ phase: 'ready', devices: line.devices, message: `Simulator running: ${line.devices} devices` });
            resolve(this.endpoint);
            return;
          case 'operator': {
            const { event: _event, ...state } = line;
            this.options.onOperator?.(state);
            return;
          }
          case 'ack':
          case 'error':
            if (line.id !== undefined) this.answer(line.id, line);
            return;
          case 'stopped':
            return;
        }
      });
      child.onExit((code) => {
        const wasReady = this.endpoint !== undefined;
        this.process = undefined;
        this.endpoint = undefined;
        for (const waiter of this.waiters.values()) waiter({ event: 'error', message: 'the simulator stopped' });
        this.waiters.clear();
        if (!wasReady) {
          fail(`the simulator exited (${code ?? 'signal'}) before it was ready${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}`);
        } else if (this.current.phase === 'stopping') {
          this.setStatus({ phase: 'idle', devices: null, message: null });
        } else {
          this.setStatus({ phase: 'failed', devices: null, message: `the simulator stopped unexpectedly (${code ?? 'signal'})` });
        }
      });
    });
  }

  /** Sends one command and resolves with its acknowledgement; the simulator's refusal rejects. */
  private control<C extends SimControlRequest>(command: C): Promise<SimAckFor<C['cmd']>> {
    const running = this.process;
    if (!running || !this.endpoint) return Promise.reject(new TetherError('SIMULATOR_FAILED', 'the simulator is not running'));
    const id = this.nextControlId++;
    return new Promise((resolve, reject) => {
      this.waiters.set(id, (answer) => {
        if (answer instanceof TetherError) reject(answer);
        else if (answer.event === 'error') reject(new TetherError('VALIDATION_FAILED', answer.message));
        else if (answer.cmd === command.cmd) resolve(answer as SimAckFor<C['cmd']>);
        else reject(new TetherError('SIMULATOR_FAILED', `the simulator answered "${command.cmd}" as if it were "${answer.cmd}"`));
      });
      const line: SimControlCommand = { ...command, id };
      running.write(JSON.stringify(line));
    });
  }

  /** One line of the simulator's output in the protocol's form; anything else is not for us, unless it answers a command. */
  private readLine(text: string): SimOutputLine | undefined {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return undefined;
    }
    const line = SimOutputLineSchema.safeParse(json);
    if (line.success) return line.data;
    const id = (json as { id?: unknown } | null)?.id;
    if (typeof id === 'number') {
      this.answer(id, new TetherError('SIMULATOR_FAILED', `the simulator answered in an unexpected form: ${line.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`));
    }
    return undefined;
  }

  private answer(id: number, answer: SimAck | SimErrorLine | TetherError): void {
    const waiter = this.waiters.get(id);
    this.waiters.delete(id);
    waiter?.(answer);
  }

  private setStatus(status: SimulatorStatus): void {
    this.current = status;
    this.options.onStatus(status);
  }
}
