/**
 * The benchmark's server process: runs one server under test (`tether` or `bare`) and
 * answers the orchestrator's requests — figures, a command burst, stop. Started by
 * bench/agents.ts, never directly.
 */
import type { ServerRequests } from './messages.ts';
import { benchNow, serveRequests } from './rpc.ts';
import type { ServerUnderTest } from './server-under-test.ts';
import { startBareServer } from './bare-server.ts';
import { startTetherServer } from './tether-server.ts';

let server: ServerUnderTest | undefined;

function running(): ServerUnderTest {
  if (!server) throw new Error('the server is not set up yet');
  return server;
}

serveRequests<ServerRequests>({
  async setup(args) {
    if (server) throw new Error('the server is already set up');
    server = args.mode === 'tether' ? await startTetherServer(args) : await startBareServer(args);
    return server.ready;
  },
  figures({ gc }) {
    if (gc) globalThis.gc?.();
    const cpu = process.cpuUsage();
    return { rssBytes: process.memoryUsage().rss, cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, at: benchNow(), heldPolls: running().heldPolls() };
  },
  burst: ({ deviceIds }) => running().burst(deviceIds),
  handovers: ({ commandIds }) =>
    commandIds.flatMap((commandId): [string, number][] => {
      const at = running().handedOverAt(commandId);
      return at === undefined ? [] : [[commandId, at]];
    }),
  async stop() {
    await server?.close();
    return null;
  },
});
