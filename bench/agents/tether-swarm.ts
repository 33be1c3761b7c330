import { join } from 'node:path';
import { pino } from 'pino';
import { Agent } from '../../agent-sim/agent/agent.ts';
import { parseAgentConfig } from '../../agent-sim/agent/config.ts';
import type { AgentSetup, DeviceSlot, EnrollOutcome } from './messages.ts';
import { QuietDevice } from './quiet-device.ts';
import type { ReceiptLog } from './receipt-log.ts';
import type { AgentSwarm, SwarmCounters } from './swarm.ts';

/**
 * The real agent core (`Agent` from agent-sim), one per device, each with its own data
 * dir, credentials and connections, driving a quiet device. A receipt is taken on the
 * agent's `polled` event — the first moment the agent has the parsed answer.
 */
export class TetherSwarm implements AgentSwarm {
  private readonly agents: Agent[] = [];
  private readonly logger = pino({ level: 'silent' });
  private readonly tally: SwarmCounters = { pollAnswers: 0, connectionErrors: 0 };

  constructor(
    private readonly setup: AgentSetup,
    private readonly receipts: ReceiptLog,
  ) {}

  async enroll(): Promise<EnrollOutcome> {
    const outcome: EnrollOutcome = { enrolled: 0, failed: 0 };
    let next = 0;
    const worker = async () => {
      for (let slot = this.setup.devices[next++]; slot; slot = this.setup.devices[next++]) {
        try {
          this.agents.push(await this.enrollOne(slot));
          outcome.enrolled += 1;
        } catch (err) {
          outcome.failed += 1;
          outcome.firstError ??= `${slot.serial}: ${(err as Error).message}`;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.setup.enrollConcurrency, this.setup.devices.length) }, worker));
    return outcome;
  }

  start(): number {
    for (const agent of this.agents) agent.start();
    return this.agents.length;
  }

  counters(): SwarmCounters {
    return { ...this.tally };
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((agent) => agent.stop()));
  }

  private async enrollOne(slot: DeviceSlot): Promise<Agent> {
    if (!slot.enrollmentCode) throw new Error('no enrollment code');
    const config = parseAgentConfig({
      serverUrl: this.setup.serverUrl,
      serverCaPem: this.setup.caPem,
      dataDir: join(this.setup.dataDir, slot.serial),
      fullReportIntervalMs: 3_600_000,
      backoff: { baseMs: 200, maxMs: 5000 },
    });
    const device = new QuietDevice(slot.serial);
    const credentials = await Agent.enroll(config, device, slot.enrollmentCode);
    const agent = new Agent(config, device, credentials, { logger: this.logger });
    agent.on('polled', (answer) => {
      this.tally.pollAnswers += 1;
      for (const command of answer.commands) this.receipts.record(command.id);
    });
    agent.on('connection-error', (err) => {
      this.tally.connectionErrors += 1;
      this.tally.lastConnectionError = `${err.code}: ${err.message}`;
    });
    return agent;
  }
}
