#!/usr/bin/env node
/**
 * `npm run agent -- --server URL --ca FILE --data-dir DIR [--enroll CODE] ...`: the real
 * agent core (agent/cli.ts) driving one simulated device, plugged in here.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAgentCli } from './agent/cli.ts';
import type { DevicePlug } from './agent/device.ts';
import { DEVICE_FILES_FOLDER, createSimulatedDevice } from './devices/index.ts';

/** A simulated device of the model asked for; its file system lives in the agent's data dir. */
const simulatedDevice: DevicePlug = {
  create: ({ modelId, serial, dataDir }) => createSimulatedDevice({ modelId, serial, filesDir: join(dataDir, DEVICE_FILES_FOLDER) }),
};

runAgentCli(process.argv.slice(2), { device: simulatedDevice, entry: fileURLToPath(import.meta.url) }).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`fatal: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
