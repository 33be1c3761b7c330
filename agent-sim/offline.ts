#!/usr/bin/env node
/**
 * `npm run sim -- --devices N [--port P] [--data-dir D] [--json] [--consent auto|ask|deny]`:
 * the offline simulator. An embedded server and a fleet of real agents driving simulated
 * equipment, all on loopback in one process — for field engineers without a connection
 * and for training. The trainee plays both sides: the engineer in the console, and the
 * customer — `--consent` sets every simulated customer's policy for service sessions
 * (auto: allowed at once; ask: the operator at the device answers; deny: refused), and
 * the commands below act as the operator at a device.
 *
 * Control on stdin, one command per line (plain words or JSON; a JSON command may carry a
 * numeric "id", echoed in its answer). Answers are {"event":"ack",…} or
 * {"event":"error","code"?,"message"} lines with --json, plain text without.
 *   fault SERIAL FAULT [SECONDS]   {"cmd":"fault","serial":"…","fault":"pressure-fault","id":7}
 *   clear SERIAL                   {"cmd":"clear","serial":"…"}
 *   list                           {"cmd":"list"}
 *   consents [SERIAL]              {"cmd":"consents","serial":"…"}
 *       consent requests waiting (all devices without SERIAL), each with remainingSeconds
 *   approve SERIAL [SESSION_ID] [--as NAME]
 *                                  {"cmd":"approve","serial":"…","sessionId":"…","as":"Pat Biomed"}
 *   deny SERIAL [SESSION_ID] [--as NAME]
 *                                  {"cmd":"deny","serial":"…","sessionId":"…"}
 *   sessions [SERIAL]              {"cmd":"sessions","serial":"…"}
 *       active sessions with controller, observers, scopes and remainingSeconds
 *   revoke SERIAL [SESSION_ID] [--as NAME]
 *                                  {"cmd":"revoke","serial":"…","sessionId":"…"}
 *   operator SERIAL                {"cmd":"operator","serial":"…"}
 *       what the device's operator sees: {serial, consents, sessions}
 *   stop                           {"cmd":"stop"}
 * Without SESSION_ID, the one request (or session) on that device is meant; none or several
 * is an error naming them. NAME (the operator, default "Device operator") may contain spaces.
 *
 * Unsolicited, whenever a device's pending consents or active sessions change:
 *   {"event":"operator","serial":"…","consents":[ConsentRequest…],"sessions":[DeviceSession without grant…]}
 * (a short text block without --json).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { TetherError } from '#contract/errors';
import { parseServerConfig } from '../server/config.ts';
import { buildServer } from '../server/app.ts';
import { loadCredentials } from './agent/credentials.ts';
import { Fleet, isFleetFault, type OperatorView } from './fleet.ts';
import { SIM_CONSENT_MODES, isSimConsentMode, provisionSimFleet, resetSimUser } from './provision.ts';
import { startRandomFaults } from './random-faults.ts';

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

/** Who the operator at the device says they are, unless told (--as). */
const DEFAULT_OPERATOR = 'Device operator';

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
  const say = (human: string, event: Record<string, unknown>) => process.stdout.write(json ? `${JSON.stringify(event)}\n` : `${human}\n`);

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
  fleet.on('operator', (serial) => {
    const view = fleet.operatorView(serial);
    say(describeOperatorView(view), { event: 'operator', ...view });
  });
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
      (err: unknown) => say(`error: ${(err as Error).message}`, {
        event: 'error',
        ...tag,
        ...(err instanceof TetherError ? { code: err.code } : {}),
        message: (err as Error).message,
      }),
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
    const { cmd, args } = line.startsWith('{') ? parseJsonControl(line) : parseWordControl(line);
    const serialArg = typeof args.serial === 'string' && args.serial ? args.serial : undefined;
    const sessionIdArg = typeof args.sessionId === 'string' && args.sessionId ? args.sessionId : undefined;
    const operator = typeof args.as === 'string' && args.as.trim() ? args.as : DEFAULT_OPERATOR;
    switch (cmd) {
      case 'fault': {
        const serial = String(args.serial ?? '');
        const fault = String(args.fault ?? '');
        if (!isFleetFault(fault)) throw new Error(`unknown fault "${fault}"`);
        const durationMs = args.durationMs;
        if (durationMs !== undefined && !(typeof durationMs === 'number' && Number.isFinite(durationMs) && durationMs > 0)) {
          throw new Error('durationMs must be a positive number of milliseconds');
        }
        await fleet.inject(serial, fault, durationMs);
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
      case 'consents': {
        const consents = fleet.operatorViews(serialArg).flatMap((v) =>
          v.consents.map((c) => ({ serial: v.serial, ...c, remainingSeconds: Math.ceil(c.expiresInMs / 1000) })),
        );
        const human = consents.length
          ? consents.map((c) => `${c.serial.padEnd(14)} ${c.sessionId}  ${describeConsent(c)}`).join('\n')
          : 'no consent requests waiting';
        return { human, data: { cmd, consents } };
      }
      case 'sessions': {
        const sessions = fleet.operatorViews(serialArg).flatMap((v) =>
          v.sessions.map((s) => ({ serial: v.serial, ...s, remainingSeconds: Math.max(0, Math.ceil((s.expiresAt - Date.now()) / 1000)) })),
        );
        const human = sessions.length
          ? sessions.map((s) => `${s.serial.padEnd(14)} ${s.sessionId}  ${describeSession(s)}`).join('\n')
          : 'no active sessions';
        return { human, data: { cmd, sessions } };
      }
      case 'approve':
      case 'deny': {
        const serial = requireSerial(serialArg, cmd);
        const decision = fleet.decideConsent(serial, sessionIdArg, cmd === 'approve', operator);
        return {
          human: `${decision.approve ? 'approved' : 'denied'}: ${decision.kind === 'extend' ? 'extension of ' : ''}session ${decision.sessionId} on ${serial} (as ${decision.operator})`,
          data: { cmd, serial, ...decision },
        };
      }
      case 'revoke': {
        const serial = requireSerial(serialArg, cmd);
        const revocation = fleet.revokeSession(serial, sessionIdArg, operator);
        return { human: `revoked: session ${revocation.sessionId} on ${serial} (as ${revocation.operator})`, data: { cmd, serial, ...revocation } };
      }
      case 'operator': {
        const view = fleet.operatorView(requireSerial(serialArg, cmd));
        return { human: describeOperatorView(view), data: { cmd, ...view } };
      }
      case 'stop':
        await shutdown('stop command');
        return undefined;
      default:
        throw new Error(`unknown command "${cmd}" (fault, clear, list, consents, approve, deny, sessions, revoke, operator, stop)`);
    }
  }
}

interface ControlCommand {
  cmd: string;
  args: Record<string, unknown>;
}

function parseJsonControl(line: string): ControlCommand {
  const parsed = JSON.parse(line) as Record<string, unknown>;
  return { cmd: String(parsed.cmd ?? ''), args: parsed };
}

/** Plain words: `fault SERIAL FAULT [SECONDS]`, `approve SERIAL [SESSION_ID] [--as NAME WITH SPACES]`, … */
function parseWordControl(line: string): ControlCommand {
  const words = line.split(/\s+/);
  const asAt = words.indexOf('--as');
  const as = asAt >= 0 ? words.slice(asAt + 1).join(' ') : undefined;
  const [cmd = '', serial, second, third] = asAt >= 0 ? words.slice(0, asAt) : words;
  if (cmd === 'fault') {
    const seconds = third === undefined ? undefined : Number(third);
    if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0)) throw new Error(`fault SECONDS must be a positive number, got "${third}"`);
    return { cmd, args: { serial, fault: second, durationMs: seconds === undefined ? undefined : seconds * 1000 } };
  }
  return { cmd, args: { serial, sessionId: second, as } };
}

function requireSerial(serial: string | undefined, cmd: string): string {
  if (!serial) throw new Error(`${cmd} needs a SERIAL`);
  return serial;
}

function describeConsent(c: OperatorView['consents'][number]): string {
  const what = c.kind === 'extend' ? `wants ${c.durationMinutes} more min` : `requests ${c.scopes.join(', ')} for ${c.durationMinutes} min`;
  return `${c.engineer.displayName} (${c.engineer.username}) ${what}: "${c.reason}" — ${Math.ceil(c.expiresInMs / 1000)} s to answer`;
}

function describeSession(s: OperatorView['sessions'][number]): string {
  const observers = s.observers.length ? `, observers ${s.observers.map((o) => o.displayName).join(', ')}` : '';
  const left = Math.max(0, Math.round((s.expiresAt - Date.now()) / 60_000));
  return `controller ${s.controller.displayName} (${s.controller.username})${observers}; ${s.scopes.join(', ')}; ${left} min left: "${s.reason}"`;
}

/** The operator's view of one device, as a few lines of text. */
function describeOperatorView(view: OperatorView): string {
  const lines = [
    ...view.consents.map((c) => `  consent ${c.sessionId}: ${describeConsent(c)} — "approve ${view.serial}" or "deny ${view.serial}"`),
    ...view.sessions.map((s) => `  session ${s.sessionId}: ${describeSession(s)}`),
  ];
  return [`${view.serial}: ${lines.length ? '' : 'no consent requests, no sessions'}`.trimEnd(), ...lines].join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`tether sim: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
});
