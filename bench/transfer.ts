/**
 * `npm run bench:transfer -- [--size-mib N] [--json]`: one file (default 1 GiB) from a
 * device to the console through Tether's relay, against two baselines in the same run:
 *   (a) direct — a loopback HTTPS download of the same file from a plain Node server;
 *   (b) pipe relay — the same download through a bare TLS-in/TLS-out pipe in a third
 *       process: every byte decrypted and encrypted once more, nothing else. The ceiling
 *       for any encrypted relay on this machine.
 *   Tether — the real server (its own process), a real agent (its own process) sending
 *       /logs/bench.bin from its simulated device, and the console's own transfer engine
 *       receiving it: manifest pass, tus upload, encrypted spool, Range download, per-chunk
 *       and whole-file verification, fsync, acks. Timed from the click to the verified file.
 * `--spool` turns the stream-through off (every chunk encrypted to disk and read back), for comparison.
 * `--to-device` measures the other way: the console uploads the file and the agent receives it.
 * `--rounds N` measures the pipe relay and Tether N times, one after the other (the direct
 * download once): on a shared, noisy machine one pair can be off by a fifth either way, so
 * each round's ratio is printed and the round with the median ratio is reported in full.
 * Prints MB/s of all three, Tether ÷ pipe relay (goal ≥ 0.8) and Tether ÷ direct, and the
 * peak RSS growth of the server and the agent over their idle size (goal: a few tens of MiB).
 */
import type { ChildProcess } from 'node:child_process';
import { createCipheriv, createHash, randomBytes, randomFillSync } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { composeConsole } from '../src/main/composition.ts';
import { dispatchCall } from '../src/main/dispatch.ts';
import { NodeProcessLauncher } from '../src/main/services/process-launcher.ts';
import { MemoryVault } from '../src/main/services/vault.ts';
import type { IpcCallName, IpcInput, IpcOutput, TransferItem } from '#contract/ipc';
import type { SessionView } from '#contract/api/sessions';
import { ApiClient } from '../tests/helpers/http.ts';
import { REPO_ROOT, spawnTs, stopChild } from '../tests/helpers/processes.ts';
import { ServerProcess } from '../tests/helpers/server-process.ts';
import { waitFor } from '../tests/helpers/wait.ts';
import { type Measured, cpuSecondsOf, measureDirect, measurePipeRelay, measured, ownCpuSeconds } from './transfer/baselines.ts';

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    spool: { type: 'boolean', default: false },
    'to-device': { type: 'boolean', default: false },
  },
  strict: true,
});
/** --to-device: the other way, console → device (an upload received by the agent), against the same baselines. */
const TO_DEVICE = values['to-device'];
const SIZE_MIB = Number(values['size-mib']);
const ROUNDS = Number(values.rounds);
if (!Number.isInteger(SIZE_MIB) || SIZE_MIB < 1 || SIZE_MIB > 16_384 || !Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 9) {
  process.stderr.write('usage: npm run bench:transfer -- [--size-mib 1..16384] [--rounds 1..9] [--json] [--spool] [--to-device]\n');
  process.exit(2);
}
const log = (m: string) => process.stderr.write(`[bench:transfer] ${m}\n`);
const MiB = 1024 * 1024;

/** Random bytes through one reused buffer (flat memory); returns the file's SHA-256. */
async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(4 * MiB);
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < size; written += buffer.length) {
      const part = buffer.subarray(0, Math.min(buffer.length, size - written));
      randomFillSync(part);
      hash.update(part);
      await file.write(part);
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(4 * MiB);
  const file = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length);
      if (!bytesRead) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

/** Resident set now and its peak since the last reset, in bytes (Linux /proc). */
function rss(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
  return { now: kb('VmRSS'), peak: kb('VmHWM') };
}
/** Resets the peak (VmHWM) to the current size, so the peak measured is the transfer's. */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

interface TetherRun extends Measured {
  /** Seconds: click → first chunk verified at the console (command, manifest pass), → last chunk verified, → file complete. */
  phases: { beforeFirstChunkS: number; chunksS: number; afterLastChunkS: number };
  serverIdleMiB: number;
  serverPeakGrowthMiB: number;
  agentIdleMiB: number;
  agentPeakGrowthMiB: number;
  /** CPU seconds each process spent during the transfer (the console is this process). */
  cpu: { server: number; agent: number; console: number };
}

async function measureTether(source: string, sourceSha: string, dir: string): Promise<TetherRun> {
  // --spool: every chunk through the encrypted spool, as when sender and receiver are not online together
  const configFile = join(dir, 'server-config.json');
  writeFileSync(configFile, JSON.stringify({ transfers: { streamThrough: !values.spool } }));
  const server = await ServerProcess.start(['--config', configFile]);
  let agent: ChildProcess | undefined;
  const composed = composeConsole({
    home: join(dir, 'console'),
    vault: new MemoryVault(),
    launcher: new NodeProcessLauncher(join(REPO_ROOT, 'agent-sim/offline.ts')),
    appInfo: { version: '0.0.0-bench', mode: 'browser', platform: process.platform },
    openExternal: async () => undefined,
  });
  const call = async <K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>> => {
    const result = await dispatchCall(composed.handlers, name, input);
    if (!result.ok) throw new Error(`${name}: ${result.error.code} ${result.error.message}`);
    return result.output as IpcOutput<K>;
  };
  try {
    const admin = await server.admin();
    const customer = (await admin.post<{ id: string }>('/api/v1/customers', { name: 'Bench Clinic', region: 'us', country: 'US' })).body;
    const site = (await admin.post<{ id: string }>('/api/v1/sites', { customerId: customer.id, name: 'Bench Radiology', city: 'Pittsburgh', country: 'US', timezone: 'UTC' })).body;
    const enrolled = (await admin.post<{ deviceId: string; enrollmentCode: string }>('/api/v1/devices', { siteId: site.id, modelId: 'radimetrics', serial: 'RAD-BENCH0001' })).body;
    await admin.put(`/api/v1/customers/${customer.id}/consent-policy`, { policies: { diagnose: 'allow', files: 'allow', tunnel: 'allow', deploy: 'allow' } });
    const password = 'bench-engineer-correct-horse';
    await admin.post('/api/v1/users', { username: 'bench-eng', displayName: 'Bench Engineer', role: 'engineer', password, customerIds: [customer.id] });

    const agentDir = join(dir, 'agent');
    const caPath = join(dir, 'server-ca.pem');
    writeFileSync(caPath, server.ca);
    agent = spawnTs('agent-sim/sim-agent.ts', ['--server', server.url, '--ca', caPath, '--data-dir', agentDir, '--enroll', enrolled.enrollmentCode, '--model', 'radimetrics', '--serial', 'RAD-BENCH0001', '--no-supervisor'], {
      env: { TETHER_LOG_LEVEL: 'warn' },
    });
    agent.stdout?.resume();
    agent.stderr?.resume();
    await waitFor(async () => (await admin.get<{ status: string }>(`/api/v1/devices/${enrolled.deviceId}`)).body.status === 'online', { timeoutMs: 60_000, what: 'the agent online' });
    // the device's own disk: its seeded tree, plus the file to send (a hard link, no copy)
    const logs = join(agentDir, 'device-files', 'logs');
    await waitFor(() => existsSync(logs) || undefined, { timeoutMs: 30_000, what: 'the device file tree' });
    if (!TO_DEVICE) linkSync(source, join(logs, 'bench.bin'));

    const profile = await call('profiles.save', { name: 'Bench', url: server.url, caPem: server.ca, proxy: null });
    await call('session.signIn', { profileId: profile.id, username: 'bench-eng', password });
    const engineer = new ApiClient(server.url, server.ca, (await new ApiClient(server.url, server.ca).post<{ accessToken: string }>('/api/v1/auth/login', { username: 'bench-eng', password })).body.accessToken);
    const session = (await engineer.post<SessionView>(`/api/v1/devices/${enrolled.deviceId}/sessions`, { scopes: ['files'], reason: 'bench transfer', durationMinutes: 120 })).body;

    await new Promise((r) => setTimeout(r, 2000)); // let both settle to their idle size
    const serverPid = server.child!.pid!;
    const agentPid = agent.pid!;
    const serverIdle = rss(serverPid).now;
    const agentIdle = rss(agentPid).now;
    resetPeak(serverPid);
    resetPeak(agentPid);

    const saveDir = join(dir, 'received');
    mkdirSync(saveDir);
    log(`Tether: ${SIZE_MIB} MiB ${TO_DEVICE ? 'console → device' : 'device → console'}…`);
    const cpuAt = () => ({ server: cpuSecondsOf(serverPid), agent: cpuSecondsOf(agentPid), console: ownCpuSeconds() });
    const cpuBefore = cpuAt();
    const started = performance.now();
    const [item] = TO_DEVICE
      ? [await call('transfers.upload', { deviceId: enrolled.deviceId, sessionId: session.id, localPath: source, devicePath: '/service/bench.bin', overwrite: false })]
      : (await call('transfers.download', { deviceId: enrolled.deviceId, sessionId: session.id, devicePaths: ['/logs/bench.bin'], saveDir })).items;
    // where the time goes: before the first verified byte (command, the agent's manifest pass), the bytes, the end
    let firstByteAt: number | undefined;
    let lastByteAt: number | undefined;
    const done = await waitFor(
      () => {
        const now = composed.transfers.list().find((i: TransferItem) => i.id === item!.id);
        if (now && (now.state === 'failed' || now.state === 'canceled')) throw new Error(`the transfer ${now.state}: ${JSON.stringify(now.error)}`);
        if (now && now.bytesDone > 0) firstByteAt ??= performance.now();
        if (now && now.size !== null && now.bytesDone === now.size) lastByteAt ??= performance.now();
        return now?.state === 'completed' && (TO_DEVICE || now.localPath) ? now : undefined;
      },
      { timeoutMs: 30 * 60_000, intervalMs: 20, what: 'the transfer completed' },
    );
    const end = performance.now();
    const cpuAfter = cpuAt();
    const ms = end - started;
    const serverPeak = rss(serverPid).peak;
    const agentPeak = rss(agentPid).peak;
    const received = TO_DEVICE ? join(agentDir, 'device-files', 'service', 'bench.bin') : done.localPath!;
    if ((await sha256Of(received)) !== sourceSha) throw new Error('the received file differs from the source');
    return {
      ...measured(done.size ?? 0, ms),
      phases: { beforeFirstChunkS: ((firstByteAt ?? end) - started) / 1000, chunksS: ((lastByteAt ?? end) - (firstByteAt ?? end)) / 1000, afterLastChunkS: (end - (lastByteAt ?? end)) / 1000 },
      serverIdleMiB: serverIdle / MiB,
      serverPeakGrowthMiB: (serverPeak - serverIdle) / MiB,
      agentIdleMiB: agentIdle / MiB,
      agentPeakGrowthMiB: (agentPeak - agentIdle) / MiB,
      cpu: { server: cpuAfter.server - cpuBefore.server, agent: cpuAfter.agent - cpuBefore.agent, console: cpuAfter.console - cpuBefore.console },
      cpuS: cpuAfter.server - cpuBefore.server + cpuAfter.agent - cpuBefore.agent + cpuAfter.console - cpuBefore.console,
    };
  } finally {
    await composed.service.shutdown();
    if (agent) await stopChild(agent);
    await server.stop();
  }
}

/** MB/s of one core for AES-128-GCM over 16 KiB records (TLS's unit) and for SHA-256 over 4 MiB chunks. */
function cryptoRates(): { aesGcm: number; sha256: number } {
  const total = 256 * MiB;
  const record = Buffer.alloc(16 * 1024, 1);
  let began = performance.now();
  const cipher = createCipheriv('aes-128-gcm', randomBytes(16), randomBytes(12));
  for (let done = 0; done < total; done += record.length) cipher.update(record);
  const aesGcm = total / MiB / ((performance.now() - began) / 1000);
  const chunk = Buffer.alloc(4 * MiB, 1);
  began = performance.now();
  for (let done = 0; done < total; done += chunk.length) createHash('sha256').update(chunk).digest();
  const sha256 = total / MiB / ((performance.now() - began) / 1000);
  return { aesGcm, sha256 };
}

const dir = mkdtempSync(join(tmpdir(), 'tether-bench-transfer-'));
try {
  const source = join(dir, 'source.bin');
  log(`writing ${SIZE_MIB} MiB of random data…`);
  const sourceSha = await writeRandomFile(source, SIZE_MIB * MiB);
  log('direct…');
  const direct = await measureDirect(source, join(dir, 'direct.out'));
  rmSync(join(dir, 'direct.out'));
  const rounds: { pipe: Measured; tether: TetherRun; ratio: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const of = ROUNDS > 1 ? ` (round ${round} of ${ROUNDS})` : '';
    log(`pipe relay${of}…`);
    const pipe = await measurePipeRelay(source, join(dir, 'pipe.out'));
    rmSync(join(dir, 'pipe.out'));
    const roundDir = join(dir, `round-${round}`);
    mkdirSync(roundDir);
    const tether = await measureTether(source, sourceSha, roundDir);
    rmSync(roundDir, { recursive: true, force: true });
    rounds.push({ pipe, tether, ratio: tether.mbPerSec / pipe.mbPerSec });
  }
  // the round with the median ratio (the lower middle one for an even count), reported in full
  const { pipe, tether } = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor((rounds.length - 1) / 2)]!;
  const result = {
    sizeMiB: SIZE_MIB,
    directMBps: direct.mbPerSec,
    pipeRelayMBps: pipe.mbPerSec,
    tetherMBps: tether.mbPerSec,
    tetherOverPipeRelay: tether.mbPerSec / pipe.mbPerSec,
    /** Every round as it came: pipe relay and Tether MB/s, and their ratio. */
    rounds: rounds.map((r) => ({ pipeRelayMBps: r.pipe.mbPerSec, tetherMBps: r.tether.mbPerSec, tetherOverPipeRelay: r.ratio })),
    tetherOverDirect: tether.mbPerSec / direct.mbPerSec,
    pipeRelayOverDirect: pipe.mbPerSec / direct.mbPerSec,
    seconds: { direct: direct.seconds, pipeRelay: pipe.seconds, tether: tether.seconds },
    serverIdleMiB: tether.serverIdleMiB,
    serverPeakGrowthMiB: tether.serverPeakGrowthMiB,
    agentIdleMiB: tether.agentIdleMiB,
    agentPeakGrowthMiB: tether.agentPeakGrowthMiB,
    tetherPhases: tether.phases,
    // work per byte, all processes: on two busy cores the relay that does more of it per byte is slower
    cpuSeconds: { direct: direct.cpuS, pipeRelay: pipe.cpuS, pipeRelayByProcess: pipe.cpuByProcess, tether: tether.cpuS, tetherByProcess: tether.cpu },
    // what one core does here, for reading the CPU figures: a TLS record's cipher and the hash Tether adds
    perCoreMBps: cryptoRates(),
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const f = (n: number) => n.toFixed(1);
    process.stdout.write(
      [
        `file transfer, ${SIZE_MIB} MiB ${TO_DEVICE ? 'console → device' : 'device → console'} on loopback`,
        `  direct HTTPS download     ${f(result.directMBps).padStart(8)} MB/s  (${f(direct.seconds)} s)`,
        `  bare TLS pipe relay       ${f(result.pipeRelayMBps).padStart(8)} MB/s  (${f(pipe.seconds)} s)  = ${result.pipeRelayOverDirect.toFixed(2)} × direct`,
        `  Tether relay              ${f(result.tetherMBps).padStart(8)} MB/s  (${f(tether.seconds)} s)`,
        `    of which: to the first chunk ${f(tether.phases.beforeFirstChunkS)} s, the chunks ${f(tether.phases.chunksS)} s, to the verified file ${f(tether.phases.afterLastChunkS)} s`,
        `  Tether ÷ pipe relay       ${result.tetherOverPipeRelay.toFixed(2)}   (goal ≥ 0.80)`,
        ...(ROUNDS > 1
          ? [`    ${ROUNDS} rounds as they came: ${rounds.map((r) => `${f(r.tether.mbPerSec)} ÷ ${f(r.pipe.mbPerSec)} = ${r.ratio.toFixed(2)}`).join(', ')}; the median round above`]
          : []),
        `  Tether ÷ direct           ${result.tetherOverDirect.toFixed(2)}`,
        `  CPU seconds, all processes: direct ${f(direct.cpuS!)}, pipe relay ${f(pipe.cpuS!)} (origin ${f(pipe.cpuByProcess!.origin!)}, relay ${f(pipe.cpuByProcess!.relay!)}, client ${f(pipe.cpuByProcess!.client!)}), Tether ${f(tether.cpuS!)} (agent ${f(tether.cpu.agent)}, server ${f(tether.cpu.server)}, console ${f(tether.cpu.console)})`,
        `    = Tether ÷ pipe relay in work per byte: ${(tether.cpuS! / pipe.cpuS!).toFixed(2)}; one core here: AES-128-GCM ${result.perCoreMBps.aesGcm.toFixed(0)} MB/s, SHA-256 ${result.perCoreMBps.sha256.toFixed(0)} MB/s`,
        `  server RSS idle ${f(result.serverIdleMiB)} MiB, peak growth during the transfer ${f(result.serverPeakGrowthMiB)} MiB`,
        `  agent  RSS idle ${f(result.agentIdleMiB)} MiB, peak growth during the transfer ${f(result.agentPeakGrowthMiB)} MiB`,
        '',
      ].join('\n'),
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
