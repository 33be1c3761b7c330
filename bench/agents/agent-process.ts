/**
 * The benchmark's agent process: plays one slice of the devices (at most 2,500, as each
 * Tether agent holds two files and up to two sockets open) as real Tether agents or bare
 * clients, and reports poll counts and command receipts. Started by bench/agents.ts.
 */
import type { AgentEvent, AgentRequests } from './messages.ts';
import { ReceiptLog } from './receipt-log.ts';
import { benchNow, sendEvent, serveRequests } from './rpc.ts';
import type { AgentSwarm } from './swarm.ts';
import { BareSwarm } from './bare-swarm.ts';
import { TetherSwarm } from './tether-swarm.ts';

let swarm: AgentSwarm | undefined;
const receipts = new ReceiptLog((batch) => sendEvent<AgentEvent>({ type: 'receipts', receipts: batch }));

function running(): AgentSwarm {
  if (!swarm) throw new Error('the agents are not set up yet');
  return swarm;
}

serveRequests<AgentRequests>({
  setup(args) {
    if (swarm) throw new Error('the agents are already set up');
    swarm = args.mode === 'tether' ? new TetherSwarm(args, receipts) : new BareSwarm(args, receipts);
    return swarm.enroll();
  },
  start: () => ({ started: running().start() }),
  counters() {
    const cpu = process.cpuUsage();
    return { ...running().counters(), rssBytes: process.memoryUsage().rss, cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, at: benchNow() };
  },
  async stop() {
    await swarm?.stop();
    receipts.flush();
    return null;
  },
});
