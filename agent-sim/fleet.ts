import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { backoffDelay } from '#contract/backoff';
import type { DeviceModelId } from '#contract/device-models';
import { TetherError } from '#contract/errors';
import type { ConsentDecision, ConsentRequest, DeviceSession, SessionRevocation } from '#contract/protocol/poll';
import { Agent } from './agent/agent.ts';
import { type AgentConfig, type AgentConfigInput, parseAgentConfig } from './agent/config.ts';
import { DEVICE_FILES_FOLDER, type SimulatedDevice, createSimulatedDevice } from './devices/index.ts';
import { type SimFault, isDeviceFault, isSimFault } from '#contract/sim-faults';

export type FleetFault = SimFault;

export function isFleetFault(value: string): value is FleetFault {
  return isSimFault(value);
}

/** A session as the operator at the device sees it (the grant itself is not shown). */
export type OperatorSession = Omit<DeviceSession, 'grant'>;

/** What the operator at one device sees: consent requests to answer, sessions to watch or revoke. */
export interface OperatorView {
  serial: string;
  consents: ConsentRequest[];
  sessions: OperatorSession[];
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
  /** One step of a simulated diagnostic (default 1000 ms). */
  diagnosticStepMs?: number;
}

/**
 * Many agents in one process, each with its own device, data dir, credentials and TLS
 * connection to the server — exactly as separate devices would be — plus the faults a
 * trainee can inject (device faults, a network flap, an agent crash) and the part of the
 * operator at each device: answering consent requests, watching and revoking sessions.
 * Emits `operator` with a serial whenever that device's consents or sessions change.
 */
export class Fleet extends EventEmitter<{ operator: [serial: string] }> {
  readonly members = new Map<string, FleetMember>();

  constructor(private readonly options: FleetOptions) {
    super();
  }

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

  /** Pending consents and active sessions of one device. */
  operatorView(serial: string): OperatorView {
    const { agent } = this.get(serial);
    return {
      serial,
      consents: agent.pendingConsents(),
      sessions: agent.activeSessions().map(({ grant: _grant, ...session }) => session),
    };
  }

  /** The operator views of one device, or of every device with something to show. */
  operatorViews(serial?: string): OperatorView[] {
    if (serial) return [this.operatorView(serial)];
    return [...this.members.keys()].map((s) => this.operatorView(s)).filter((v) => v.consents.length || v.sessions.length);
  }

  /**
   * Answers a consent request on a device as its operator. Without a session id, the one
   * request waiting there is meant; none or several is an error naming them.
   */
  decideConsent(serial: string, sessionId: string | undefined, approve: boolean, operator: string): ConsentDecision {
    const { agent } = this.get(serial);
    const id = sessionId ?? onlyOne(agent.pendingConsents().map((c) => c.sessionId), {
      none: `no consent request is waiting on ${serial}`,
      several: `consent requests are waiting on ${serial}`,
    });
    return agent.decideConsent(id, approve, operator);
  }

  /** Revokes a session on a device as its operator; without a session id, the one active there. */
  revokeSession(serial: string, sessionId: string | undefined, operator: string): SessionRevocation {
    const { agent } = this.get(serial);
    const id = sessionId ?? onlyOne(agent.activeSessions().map((s) => s.sessionId), {
      none: `no session is active on ${serial}`,
      several: `sessions are active on ${serial}`,
    });
    return agent.revokeSession(id, operator);
  }

  private restartAgent(member: FleetMember): void {
    member.agent = new Agent(member.config, member.device, member.agent.credentials, { logger: this.options.log });
    this.watchOperator(member);
    member.agent.start();
    this.emit('operator', member.serial); // a new agent knows no sessions until its first held poll
  }

  private watchOperator(member: FleetMember): void {
    member.agent.on('operator', () => this.emit('operator', member.serial));
  }

  private async addOne(spec: { serial: string; modelId: DeviceModelId; enrollmentCode?: string | undefined }): Promise<void> {
    const config = parseAgentConfig({ ...this.options.agent, dataDir: join(this.options.dataDir, spec.serial) });
    const device = createSimulatedDevice({
      modelId: spec.modelId,
      serial: spec.serial,
      // the device's own file system lives beside its agent's state; seeded when it starts
      filesDir: join(config.dataDir, DEVICE_FILES_FOLDER),
      ...(this.options.tickMs ? { tickMs: this.options.tickMs } : {}),
      ...(this.options.diagnosticStepMs ? { diagnosticStepMs: this.options.diagnosticStepMs } : {}),
    });
    let credentials = Agent.storedCredentials(config.dataDir);
    // credentials from before session grants lack the grant key: enroll again when given a code
    if (!credentials || (!credentials.grantPublicKeyPem && spec.enrollmentCode)) {
      if (!spec.enrollmentCode) throw new Error(`device ${spec.serial} is not enrolled and has no enrollment code`);
      credentials = await Agent.enroll(config, device, spec.enrollmentCode);
    }
    const agent = new Agent(config, device, credentials, { logger: this.options.log });
    const member: FleetMember = { serial: spec.serial, modelId: spec.modelId, device, agent, config };
    this.watchOperator(member);
    this.members.set(spec.serial, member);
  }
}

/** The one id in `ids`; none or several is an error the operator can act on. */
function onlyOne(ids: readonly string[], words: { none: string; several: string }): string {
  if (ids.length === 1 && ids[0]) return ids[0];
  if (ids.length === 0) throw new TetherError('NOT_FOUND', words.none);
  throw new TetherError('CONFLICT', `${ids.length} ${words.several}; name one: ${ids.join(', ')}`);
}
