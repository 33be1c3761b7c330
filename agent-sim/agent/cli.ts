/**
 * The agent's command line (`--server URL --ca FILE --data-dir DIR [--enroll CODE] ...`):
 * one device agent driving the device a program plugs in, under a supervisor that restarts
 * it if it dies. `agent-sim/sim-agent.ts` (`npm run agent`) plugs in a simulated device;
 * on real equipment the same core drives the device's own adapter.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { backoffDelay } from '#contract/backoff';
import { TetherError } from '#contract/errors';
import { isDeviceModelId } from '#contract/device-models';
import { Agent } from './agent.ts';
import type { DevicePlug, PluggedDevice } from './device.ts';
import { parseAgentConfig, proxyFromEnv } from './config.ts';
import { Supervisor } from './supervisor.ts';

const USAGE = `usage: npm run agent -- --server https://HOST:PORT --ca CA.pem --data-dir DIR
                       [--enroll CODE --model MODEL --serial SERIAL]
                       [--proxy http://[user:pass@]proxy:port] [--host-map name=addr,...]
                       [--no-supervisor]
models: stellant-flex, mrxperion, mark7-arterion, intego, radimetrics`;

const FLAGS = {
  server: { type: 'string' },
  ca: { type: 'string' },
  'data-dir': { type: 'string' },
  enroll: { type: 'string' },
  model: { type: 'string' },
  serial: { type: 'string' },
  proxy: { type: 'string' },
  'host-map': { type: 'string' },
  'poll-backoff-max-ms': { type: 'string' },
  'no-supervisor': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function fail(message: string): never {
  throw new TetherError('CONFIG_INVALID', message);
}

async function runAgent(values: Record<string, string | boolean | undefined>, plug: DevicePlug): Promise<void> {
  const log = pino({ level: process.env.TETHER_LOG_LEVEL ?? 'info' });
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const server = str('server') ?? fail('--server is required');
  const caPath = str('ca') ?? fail('--ca is required (the server CA certificate to pin)');
  const dataDir = str('data-dir') ?? fail('--data-dir is required');
  let serverCaPem: string;
  try {
    serverCaPem = readFileSync(caPath, 'utf8');
  } catch (err) {
    fail(`cannot read --ca ${caPath}: ${(err as Error).message}`);
  }
  const hostMap = Object.fromEntries(
    (str('host-map') ?? '').split(',').filter(Boolean).map((pair) => {
      const [name, address] = pair.split('=');
      if (!name || !address) fail(`--host-map entries are name=address, got "${pair}"`);
      return [name, address];
    }),
  );
  const proxyUrl = str('proxy');
  const backoffMax = str('poll-backoff-max-ms');
  const config = parseAgentConfig({
    serverUrl: server,
    serverCaPem,
    dataDir,
    hostMap,
    ...(proxyUrl ? { proxy: { url: proxyUrl } } : proxyFromEnv(process.env) ? { proxy: proxyFromEnv(process.env) } : {}),
    ...(backoffMax ? { backoff: { baseMs: Math.min(1000, Number(backoffMax)), maxMs: Number(backoffMax) } } : {}),
  });

  let credentials = Agent.storedCredentials(dataDir);
  const modelId = str('model') ?? credentials?.modelId ?? fail('--model is required for a first enrollment');
  if (!isDeviceModelId(modelId)) fail(`unknown model "${modelId}"`);
  const serial = str('serial') ?? credentials?.serial ?? fail('--serial is required for a first enrollment');
  const device = plug.create({ modelId, serial, dataDir });
  const code = str('enroll');
  if (code && credentials) {
    log.info({ deviceId: credentials.deviceId }, 'already enrolled; --enroll ignored (delete credentials.json to enroll again)');
  } else if (code) {
    credentials = await enrollWithRetry(config, device, code, log);
  }
  if (!credentials) fail(`no credentials in ${dataDir}; enroll first with --enroll CODE`);

  const agent = new Agent(config, device, credentials, { logger: log });
  agent.on('state', (state) => log.info({ state }, 'agent state'));
  device.start();
  agent.start();
  const stop = () => {
    device.stop();
    agent.stop({ goodbye: true }).then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Enrolls, retrying while the server is unreachable; a refused code is final. */
async function enrollWithRetry(
  config: ReturnType<typeof parseAgentConfig>,
  device: PluggedDevice,
  code: string,
  log: Logger,
) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const credentials = await Agent.enroll(config, device, code);
      log.info({ deviceId: credentials.deviceId }, 'enrolled');
      return credentials;
    } catch (err) {
      if (!(err instanceof TetherError) || (err.code !== 'SERVER_UNREACHABLE' && err.code !== 'PROXY_REFUSED')) throw err;
      const delay = backoffDelay(config.backoff, attempt);
      log.warn({ code: err.code, retryInMs: delay }, err.message);
      await sleep(delay);
    }
  }
}

/** What a program gives the agent's command line. */
export interface AgentCliOptions {
  /** The equipment the agent drives. */
  device: DevicePlug;
  /** The entry file the supervisor runs again (with `--no-supervisor`) as the supervised agent. */
  entry: string;
}

/** Runs the agent's command line; resolves to the exit code, or -1 while the agent runs on. */
export async function runAgentCli(argv: string[], options: AgentCliOptions): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!parsed.values['no-supervisor']) {
    // Supervise a copy of ourselves; it enrolls (if asked) once, then only runs.
    const childArgs = [...process.execArgv, options.entry, ...argv, '--no-supervisor'];
    const supervisor = new Supervisor({
      command: process.execPath,
      args: childArgs,
      permanentExitCodes: [2],
      log: (m) => process.stderr.write(`supervisor: ${m}\n`),
    });
    supervisor.start();
    const forward = (signal: NodeJS.Signals) => void supervisor.stop(signal);
    process.once('SIGINT', () => forward('SIGINT'));
    process.once('SIGTERM', () => forward('SIGTERM'));
    return supervisor.done;
  }
  try {
    await runAgent(parsed.values, options.device);
    return -1;
  } catch (err) {
    if (err instanceof TetherError) {
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
