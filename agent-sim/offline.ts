#!/usr/bin/env node
/**
 * `npm run sim -- --devices N [--port P] [--data-dir D] [--json] [--consent auto|ask|deny]`:
 * the offline simulator. An embedded server and a fleet of real agents driving simulated
 * equipment, all on loopback in one process — for field engineers without a connection
 * and for training. The trainee plays both sides: the engineer in the console, and the
 * customer — `--consent` sets every simulated customer's policy for service sessions
 * (auto: allowed at once; ask: the operator at the device answers; deny: refused), and
 * the control commands below act as the operator at a device.
 *
 * Control on stdin — or, run as an Electron utility process (the packaged console), `{ line }`
 * messages on the parent port: one command per line, plain words or JSON, as
 * contract/simulator-control.ts declares them (answered by sim-control.ts). Answers are
 * {"event":"ack",…} or {"event":"error","code"?,"message"} lines with --json, plain text
 * without; so is the unsolicited {"event":"operator",…} line whenever a device's pending
 * consents or active sessions change.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { SimOutputLine } from '#contract/simulator-control';
import { parseServerConfig } from '../server/config.ts';
import { buildServer } from '../server/app.ts';
import { loadCredentials } from './agent/credentials.ts';
import { Fleet } from './fleet.ts';
import { SIM_CONSENT_MODES, isSimConsentMode, provisionSimFleet, resetSimUser } from './provision.ts';
import { startRandomFaults } from './random-faults.ts';
import { SimControl } from './sim-control.ts';

const USAGE = `usage: npm run sim -- [--devices N] [--port P] [--data-dir DIR] [--json]
                     [--poll-window-ms MS] [--tick-ms MS] [--fault-rate PER_DEVICE_PER_HOUR]
                     [--consent auto|ask|deny] [--consent-timeout-seconds S]
  --devices      simulated devices (default 60)
  --port         server port on 127.0.0.1 (default: any free port)
  --data-dir     keep server and agent state here across runs (default: a temporary dir, removed on exit)
  --json         print one JSON line when ready, and JSON answers to stdin commands
  --fault-rate   random faults per device per hour (default 0.5; 0 for none)
  --consent      the simulated customers' answer to service sessions: auto (allow at once),
                 ask (the operator at the device decides: approve/deny on stdin), deny (default ask)
  --consent-timeout-seconds  how long the operator has to answer (default 120, or
                 TETHER_SIM_CONSENT_TIMEOUT_SECONDS); no answer counts as denied
  --transfer-bytes-per-sec  cap on file transfer content, per transfer, to practise on a slow
                 link (default 0: none, or TETHER_SIM_TRANSFER_BYTES_PER_SEC)`;

const FLAGS = {
  devices: { type: 'string', default: '60' },
  port: { type: 'string', default: '0' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean', default: false },
  'poll-window-ms': { type: 'string', default: '25000' },
  'tick-ms': { type: 'string', default: '2000' },
  'fault-rate': { type: 'string', default: '0.5' },
  consent: { type: 'string', default: 'ask' },
  'consent-timeout-seconds': { type: 'string', default: process.env.TETHER_SIM_CONSENT_TIMEOUT_SECONDS ?? '120' },
  'transfer-bytes-per-sec': { type: 'string', default: process.env.TETHER_SIM_TRANSFER_BYTES_PER_SEC ?? '0' },
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
  const consentTimeoutSeconds = positiveInt('consent-timeout-seconds', values['consent-timeout-seconds'], 5, 3600);
  const bandwidthBytesPerSec = positiveInt('transfer-bytes-per-sec', values['transfer-bytes-per-sec'], 0, 2 ** 40);
  const consent = values.consent;
  if (!isSimConsentMode(consent)) throw new Error(`--consent must be one of ${SIM_CONSENT_MODES.join(', ')}, got "${consent}"`);
  const json = values.json;
  const temporary = !values['data-dir'];
  const dataDir = temporary ? mkdtempSync(join(tmpdir(), 'tether-sim-')) : resolve(values['data-dir'] as string);
  const log = pino({ level: process.env.TETHER_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const say = (human: string, line: SimOutputLine) => process.stdout.write(json ? `${JSON.stringify(line)}\n` : `${human}\n`);

  // the relay's ports are picked like the API's: several simulators may run on one machine
  const tunnels = { agentPort: 0, consolePort: 0 };
  const server = await buildServer(parseServerConfig({ dataDir: join(dataDir, 'server'), host: '127.0.0.1', port, pollWindowMs, consentTimeoutSeconds, logLevel: 'warn', transfers: { bandwidthBytesPerSec }, tunnels }), { logger: log });
  const url = await server.listen();
  const agentsDir = join(dataDir, 'agents');
  // devices enrolled before session grants existed lack the grant key: they are enrolled again
  const plan = await provisionSimFleet(server, deviceCount, (serial) => Boolean(loadCredentials(join(agentsDir, serial))?.grantPublicKeyPem), consent);
  const user = await resetSimUser(server);
  const fleet = new Fleet({
    agent: { serverUrl: url, serverCaPem: server.ctx.pki.ca.certPem, backoff: { baseMs: 500, maxMs: 10_000 }, dataFlushMs: 1000 },
    dataDir: agentsDir,
    log,
    tickMs,
  });
  await fleet.add(plan);
  const control = new SimControl(fleet, say, (reason) => shutdown(reason));
  fleet.on('operator', (serial) => control.announceOperator(serial));
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
      `    consent  ${consent}`,
      '  Type "fault SERIAL pressure-fault", "clear SERIAL", "list" or "stop";',
      '  as the operator at a device: "consents", "approve SERIAL", "deny SERIAL", "sessions", "revoke SERIAL".',
      '',
    ].join('\n'),
    { event: 'ready', url, caCert: server.ctx.pki.caCertPath, username: user.username, password: user.password, devices: deviceCount, dataDir, consent },
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

  createInterface({ input: process.stdin }).on('line', (line) => control.answer(line));
  // Run as an Electron utility process (the packaged console), control lines arrive on the parent port.
  const parentPort = (process as { parentPort?: { on(event: 'message', listener: (e: { data: { line?: unknown } }) => void): void } }).parentPort;
  parentPort?.on('message', (e) => {
    if (typeof e.data?.line === 'string') control.answer(e.data.line);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`tether sim: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
});
