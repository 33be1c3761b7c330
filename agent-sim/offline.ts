#!/usr/bin/env node
/**
 * `npm run sim -- --devices N [--port P] [--data-dir D] [--json]`: the offline simulator.
 * An embedded server and a fleet of real agents driving simulated equipment, all on
 * loopback in one process — for field engineers without a connection and for training.
 *
 * Control on stdin, one command per line (plain words or JSON):
 *   fault SERIAL FAULT [SECONDS]   {"cmd":"fault","serial":"…","fault":"pressure-fault","id":7}
 *   clear SERIAL                   {"cmd":"clear","serial":"…"}
 *   list                           {"cmd":"list"}
 *   stop                           {"cmd":"stop"}
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseServerConfig } from '../server/config.ts';
import { buildServer } from '../server/app.ts';
import { credentialsPath } from './agent/credentials.ts';
import { Fleet, isFleetFault } from './fleet.ts';
import { provisionSimFleet, resetSimUser } from './provision.ts';
import { startRandomFaults } from './random-faults.ts';

const USAGE = `usage: npm run sim -- [--devices N] [--port P] [--data-dir DIR] [--json]
                     [--poll-window-ms MS] [--tick-ms MS] [--fault-rate PER_DEVICE_PER_HOUR]
  --devices      simulated devices (default 60)
  --port         server port on 127.0.0.1 (default: any free port)
  --data-dir     keep server and agent state here across runs (default: a temporary dir, removed on exit)
  --json         print one JSON line when ready, and JSON answers to stdin commands
  --fault-rate   random faults per device per hour (default 0.5; 0 for none)`;

const FLAGS = {
  devices: { type: 'string', default: '60' },
  port: { type: 'string', default: '0' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean', default: false },
  'poll-window-ms': { type: 'string', default: '25000' },
  'tick-ms': { type: 'string', default: '2000' },
  'fault-rate': { type: 'string', default: '0.5' },
  help: { type: 'boolean', short: 'h' },
} as const;

function positiveInt(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: FLAGS, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const deviceCount = positiveInt('devices', values.devices, 0, 20_000);
  const port = positiveInt('port', values.port, 0, 65_535);
  const pollWindowMs = positiveInt('poll-window-ms', values['poll-window-ms'], 100, 120_000);
  const tickMs = positiveInt('tick-ms', values['tick-ms'], 50, 600_000);
  const faultRate = Number(values['fault-rate']);
  if (!Number.isFinite(faultRate) || faultRate < 0) throw new Error(`--fault-rate must be a number ≥ 0, got "${values['fault-rate']}"`);
  const json = values.json;
  const temporary = !values['data-dir'];
  const dataDir = temporary ? mkdtempSync(join(tmpdir(), 'tether-sim-')) : resolve(values['data-dir'] as string);
  const log = pino({ level: process.env.TETHER_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const say = (human: string, event: Record<string, unknown>) => process.stdout.write(json ? `${JSON.stringify(event)}\n` : `${human}\n`);

  const server = await buildServer(parseServerConfig({ dataDir: join(dataDir, 'server'), host: '127.0.0.1', port, pollWindowMs, logLevel: 'warn' }), { logger: log });
  const url = await server.listen();
  const agentsDir = join(dataDir, 'agents');
  const plan = await provisionSimFleet(server, deviceCount, (serial) => existsSync(credentialsPath(join(agentsDir, serial))));
  const user = await resetSimUser(server);
  const fleet = new Fleet({
    agent: { serverUrl: url, serverCaPem: server.ctx.pki.ca.certPem, backoff: { baseMs: 500, maxMs: 10_000 }, dataFlushMs: 1000 },
    dataDir: agentsDir,
    log,
    tickMs,
  });
  await fleet.add(plan);
  fleet.startAll();
  const stopFaults = startRandomFaults(fleet, faultRate, log);

  say(
    [
      '',
      `  Tether simulator ready: ${deviceCount} devices`,
      `    server   ${url}`,
      `    CA       ${server.ctx.pki.caCertPath}`,
      `    sign in  ${user.username} / ${user.password}`,
      `    data     ${dataDir}${temporary ? ' (temporary)' : ''}`,
      '  Type "fault SERIAL pressure-fault", "clear SERIAL", "list" or "stop".',
      '',
    ].join('\n'),
    { event: 'ready', url, caCert: server.ctx.pki.caCertPath, username: user.username, password: user.password, devices: deviceCount, dataDir },
  );

  let stopping = false;
  const shutdown = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    stopFaults();
    await fleet.stopAll({ goodbye: true });
    await server.close();
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
    say(`simulator stopped (${reason})`, { event: 'stopped', reason });
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  const onControlLine = (line: string) => {
    // a JSON command may carry an id, echoed in its answer (answers can come out of order)
    let id: unknown;
    try {
      id = line.trim().startsWith('{') ? (JSON.parse(line) as { id?: unknown }).id : undefined;
    } catch {
      id = undefined;
    }
    const tag = typeof id === 'number' ? { id } : {};
    void handleControl(line.trim()).then(
      (answer) => answer && say(answer.human, { event: 'ack', ...tag, ...answer.data }),
      (err: unknown) => say(`error: ${(err as Error).message}`, { event: 'error', ...tag, message: (err as Error).message }),
    );
  };
  createInterface({ input: process.stdin }).on('line', onControlLine);
  // Run as an Electron utility process (the packaged console), control lines arrive on the parent port.
  const parentPort = (process as { parentPort?: { on(event: 'message', listener: (e: { data: { line?: unknown } }) => void): void } }).parentPort;
  parentPort?.on('message', (e) => {
    if (typeof e.data?.line === 'string') onControlLine(e.data.line);
  });

  async function handleControl(line: string): Promise<{ human: string; data: Record<string, unknown> } | undefined> {
    if (!line) return undefined;
    let cmd: string;
    let args: Record<string, unknown>;
    if (line.startsWith('{')) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      cmd = String(parsed.cmd ?? '');
      args = parsed;
    } else {
      const [word = '', serial, fault, seconds] = line.split(/\s+/);
      cmd = word;
      args = { serial, fault, durationMs: seconds ? Number(seconds) * 1000 : undefined };
    }
    switch (cmd) {
      case 'fault': {
        const serial = String(args.serial ?? '');
        const fault = String(args.fault ?? '');
        if (!isFleetFault(fault)) throw new Error(`unknown fault "${fault}"`);
        await fleet.inject(serial, fault, typeof args.durationMs === 'number' ? args.durationMs : undefined);
        return { human: `${fault} injected on ${serial}`, data: { cmd, serial, fault } };
      }
      case 'clear': {
        const serial = String(args.serial ?? '');
        fleet.clear(serial);
        return { human: `faults cleared on ${serial}`, data: { cmd, serial } };
      }
      case 'list': {
        const devices = [...fleet.members.values()].map((m) => ({ serial: m.serial, model: m.modelId, state: m.device.state(), agent: m.agent.state, faults: [...m.device.faults] }));
        return { human: devices.map((d) => `${d.serial.padEnd(14)} ${d.model.padEnd(15)} ${d.state.padEnd(10)} ${d.agent}${d.faults.length ? `  faults: ${d.faults.join(', ')}` : ''}`).join('\n'), data: { cmd, devices } };
      }
      case 'stop':
        await shutdown('stop command');
        return undefined;
      default:
        throw new Error(`unknown command "${cmd}" (fault, clear, list, stop)`);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`tether sim: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
});
