import { createWriteStream, readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import type { ChildProcess } from 'node:child_process';
import { spawnTs, stopChild, waitForLine } from '../../tests/helpers/processes.ts';

export interface Measured {
  bytes: number;
  seconds: number;
  mbPerSec: number;
  /** CPU seconds (user + system) every process of the run spent, this one included. */
  cpuS?: number;
  /** The same by process (the client is this process). */
  cpuByProcess?: Record<string, number>;
}

const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** CPU seconds (user + system) process `pid` has used so far (Linux: /proc/<pid>/stat). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name (which may hold spaces) in parentheses: utime is the 14th, stime the 15th
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds this process has used so far. */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** CPU seconds the named processes and this one (`client`) use from now until `stop()`. */
export function cpuMeter(pids: Record<string, number>): { stop(): { total: number; byProcess: Record<string, number> } } {
  const at = (): Record<string, number> => ({ ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSecondsOf(pid)])), client: ownCpuSeconds() });
  const start = at();
  return {
    stop: () => {
      const end = at();
      const byProcess = Object.fromEntries(Object.keys(end).map((name) => [name, end[name]! - start[name]!]));
      return { total: Object.values(byProcess).reduce((a, b) => a + b, 0), byProcess };
    },
  };
}

function withCpu(result: Measured, cpu: { total: number; byProcess: Record<string, number> }): Measured {
  return { ...result, cpuS: cpu.total, cpuByProcess: cpu.byProcess };
}

export function measured(bytes: number, ms: number): Measured {
  const seconds = ms / 1000;
  return { bytes, seconds, mbPerSec: bytes / (1024 * 1024) / seconds };
}

interface Listening {
  child: ChildProcess;
  port: number;
  caPem: string;
}

async function startPipe(args: string[]): Promise<Listening> {
  const child = spawnTs('bench/transfer/pipes.ts', args);
  const { json } = await waitForLine<{ port: number; caPem: string }>(child, (_l, j) => typeof j?.port === 'number', 60_000);
  return { child, port: json!.port, caPem: json!.caPem };
}

/** GET https://127.0.0.1:port/ into `dest`, timed from the request to the last byte on disk. */
async function download(port: number, caPem: string, dest: string): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/file', ca: caPem, servername: 'localhost', agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
      pipeline(res, createWriteStream(dest)).then(resolve, reject);
    });
    req.on('error', reject);
  });
  return performance.now() - started;
}

/** (a) A direct download from a plain Node HTTPS server in its own process. */
export async function measureDirect(file: string, dest: string): Promise<Measured> {
  const origin = await startPipe(['origin', file]);
  try {
    const cpu = cpuMeter({ origin: origin.child.pid! });
    const ms = await download(origin.port, origin.caPem, dest);
    return withCpu(measured(checkedSize(file, dest), ms), cpu.stop());
  } finally {
    await stopChild(origin.child);
  }
}

/** (b) The same download through a bare TLS-in/TLS-out pipe relay in a third process. */
export async function measurePipeRelay(file: string, dest: string): Promise<Measured> {
  const origin = await startPipe(['origin', file]);
  const relay = await startPipe(['relay', String(origin.port), Buffer.from(origin.caPem).toString('base64')]);
  try {
    const cpu = cpuMeter({ origin: origin.child.pid!, relay: relay.child.pid! });
    const ms = await download(relay.port, relay.caPem, dest);
    return withCpu(measured(checkedSize(file, dest), ms), cpu.stop());
  } finally {
    await stopChild(relay.child);
    await stopChild(origin.child);
  }
}

function checkedSize(file: string, dest: string): number {
  const size = statSync(file).size;
  const got = statSync(dest).size;
  if (got !== size) throw new Error(`received ${got} bytes of ${size}`);
  return size;
}
