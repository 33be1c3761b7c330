import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TetherError } from '#contract/errors';
import { OperatorStateSchema, type OperatorState, type SimulatorStatus } from '#contract/ipc';
import type { LaunchedProcess, ProcessLauncher } from './process-launcher.ts';

const ReadySchema = z.object({
  event: z.literal('ready'),
  url: z.string(),
  caCert: z.string(),
  username: z.string(),
  password: z.string(),
  devices: z.number().int(),
});

/** What the console needs to sign in to a running simulator. */
export interface SimulatorEndpoint {
  url: string;
  caPem: string;
  username: string;
  password: string;
  devices: number;
}

const ControlAnswerSchema = z.object({ event: z.enum(['ack', 'error']), id: z.number().int().optional(), message: z.string().optional() }).passthrough();
type ControlAnswer = z.infer<typeof ControlAnswerSchema>;

/** The simulator's unsolicited line when a device's operator view changes. */
const OperatorLineSchema = OperatorStateSchema.extend({ event: z.literal('operator') });

/**
 * Runs the offline simulator (`agent-sim/offline.ts`) for the console: starts it with the
 * requested fleet size, waits for its JSON ready line, forwards fault injections on its
 * standard input, and stops it with the app. Its state is reported as it changes.
 */
export class SimulatorSupervisor {
  private process: LaunchedProcess | undefined;
  private endpoint: SimulatorEndpoint | undefined;
  private starting: Promise<SimulatorEndpoint> | undefined;
  private current: SimulatorStatus = { phase: 'idle', devices: null, message: null };
  /** Control commands awaiting their answer, by id (the simulator answers out of order). */
  private readonly waiters = new Map<number, (answer: ControlAnswer) => void>();
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

  injectFault(serial: string, fault: string): Promise<void> {
    return this.control({ cmd: 'fault', serial, fault }).then(() => undefined);
  }

  clearFaults(serial: string): Promise<void> {
    return this.control({ cmd: 'clear', serial }).then(() => undefined);
  }

  /** What the operator at a simulated device sees now. */
  async operatorState(serial: string): Promise<OperatorState> {
    const answer = await this.control({ cmd: 'operator', serial });
    const state = OperatorStateSchema.safeParse(answer);
    if (!state.success) throw new TetherError('SIMULATOR_FAILED', 'the simulator answered the operator query in an unexpected form');
    return state.data;
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
      child.onLine((line) => {
        let json: unknown;
        try {
          json = JSON.parse(line);
        } catch {
          return;
        }
        const ready = ReadySchema.safeParse(json);
        if (ready.success && !this.endpoint) {
          clearTimeout(timer);
          this.endpoint = {
            url: ready.data.url,
            caPem: readFileSync(ready.data.caCert, 'utf8'),
            username: ready.data.username,
            password: ready.data.password,
            devices: ready.data.devices,
          };
          this.setStatus({ phase: 'ready', devices: ready.data.devices, message: `Simulator running: ${ready.data.devices} devices` });
          resolve(this.endpoint);
          return;
        }
        const operator = OperatorLineSchema.safeParse(json);
        if (operator.success) {
          const { event: _event, ...state } = operator.data;
          this.options.onOperator?.(state);
          return;
        }
        const answer = ControlAnswerSchema.safeParse(json);
        if (answer.success && answer.data.id !== undefined) {
          const waiter = this.waiters.get(answer.data.id);
          this.waiters.delete(answer.data.id);
          waiter?.(answer.data);
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

  private control(command: Record<string, unknown>): Promise<ControlAnswer> {
    const running = this.process;
    if (!running || !this.endpoint) return Promise.reject(new TetherError('SIMULATOR_FAILED', 'the simulator is not running'));
    const id = this.nextControlId++;
    return new Promise((resolve, reject) => {
      this.waiters.set(id, (answer) => (answer.event === 'ack' ? resolve(answer) : reject(new TetherError('VALIDATION_FAILED', answer.message ?? 'the simulator refused the command'))));
      running.write(JSON.stringify({ ...command, id }));
    });
  }

  private setStatus(status: SimulatorStatus): void {
    this.current = status;
    this.options.onStatus(status);
  }
}
