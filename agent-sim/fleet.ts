import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { backoffDelay } from '../src/shared/backoff.ts';
import type { DeviceModelId } from '../src/shared/device-models.ts';
import { Agent } from './agent/agent.ts';
import { type AgentConfig, type AgentConfigInput, parseAgentConfig } from './agent/config.ts';
import { type SimulatedDevice, createSimulatedDevice } from './devices/index.ts';
import { type SimFault, isDeviceFault, isSimFault } from '../src/shared/sim-faults.ts';

export type FleetFault = SimFault;

export function isFleetFault(value: string): value is FleetFault {
  return isSimFault(value);
}

/** One simulated device and the real agent core driving it. */
export interface FleetMember {
  readonly serial: string;
  readonly modelId: DeviceModelId;
  readonly device: SimulatedDevice;
  agent: Agent;
  readonly config: AgentConfig;
}

export interface FleetOptions {
  /** Settings every agent shares (server URL, pinned CA, …); each gets its own data dir. */
  agent: Omit<AgentConfigInput, 'dataDir'>;
  dataDir: string;
  log: Logger;
  tickMs?: number;
  /** How many enrollments run at once. */
  enrollConcurrency?: number;
}

/**
 * Many agents in one process, each with its own device, data dir, credentials and TLS
 * connection to the server — exactly as separate devices would be — plus the faults a
 * trainee can inject: device faults, a network flap, an agent crash.
 */
export class Fleet {
  readonly members = new Map<string, FleetMember>();

  constructor(private readonly options: FleetOptions) {}

  /** Adds devices, enrolling those without stored credentials with their codes. */
  async add(specs: readonly { serial: string; modelId: DeviceModelId; enrollmentCode?: string | undefined }[]): Promise<void> {
    const queue = [...specs];
    const workers = Array.from({ length: Math.min(this.options.enrollConcurrency ?? 16, queue.length) }, async () => {
      for (let spec = queue.shift(); spec; spec = queue.shift()) await this.addOne(spec);
    });
    await Promise.all(workers);
  }

  startAll(): void {
    for (const member of this.members.values()) {
      member.device.start();
      member.agent.start();
    }
  }

  async stopAll(options: { goodbye: boolean }): Promise<void> {
    await Promise.all(
      [...this.members.values()].map(async (m) => {
        m.device.stop();
        await m.agent.stop(options);
      }),
    );
  }

  get(serial: string): FleetMember {
    const member = this.members.get(serial);
    if (!member) throw new Error(`no simulated device with serial ${serial}`);
    return member;
  }

  /**
   * Injects a fault. Device faults change what the equipment reports; `network-flap`
   * cuts the agent off for `durationMs` (no goodbye, so the server sees it go missing if
   * long enough); `agent-crash` kills the agent and restarts it like the supervisor would.
   */
  async inject(serial: string, fault: FleetFault, durationMs = 10_000): Promise<void> {
    const member = this.get(serial);
    if (isDeviceFault(fault)) {
      member.device.injectFault(fault);
      return;
    }
    await member.agent.stop({ goodbye: false });
    const pause = fault === 'network-flap' ? durationMs : backoffDelay({ baseMs: 1000, maxMs: 5000 }, 1);
    this.options.log.info({ serial, fault, pauseMs: pause }, 'agent fault injected');
    void sleep(pause).then(() => this.restartAgent(member));
  }

  clear(serial: string): void {
    this.get(serial).device.clearFaults();
  }

  private restartAgent(member: FleetMember): void {
    member.agent = new Agent(member.config, member.device, member.agent.credentials, { logger: this.options.log });
    member.agent.start();
  }

  private async addOne(spec: { serial: string; modelId: DeviceModelId; enrollmentCode?: string | undefined }): Promise<void> {
    const config = parseAgentConfig({ ...this.options.agent, dataDir: join(this.options.dataDir, spec.serial) });
    const device = createSimulatedDevice({ modelId: spec.modelId, serial: spec.serial, ...(this.options.tickMs ? { tickMs: this.options.tickMs } : {}) });
    let credentials = Agent.storedCredentials(config.dataDir);
    if (!credentials) {
      if (!spec.enrollmentCode) throw new Error(`device ${spec.serial} is not enrolled and has no enrollment code`);
      credentials = await Agent.enroll(config, device, spec.enrollmentCode);
    }
    const agent = new Agent(config, device, credentials, { logger: this.options.log });
    this.members.set(spec.serial, { serial: spec.serial, modelId: spec.modelId, device, agent, config });
  }
}
