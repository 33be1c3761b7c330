import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { SeededRandom } from './random.ts';

/** The folder, inside an agent's data dir, that stands for its simulated device's file system. */
export const DEVICE_FILES_FOLDER = 'device-files';

/** One line of a simulated log after its timestamp ("INFO  [controller] …"), drawn from the device's generator. */
export type LogMessage = (random: SeededRandom) => string;

/** A file of a simulated device's tree. */
export interface SeedFile {
  /** Device path, e.g. "/logs/system.log". */
  readonly path: string;
  readonly content: string | Uint8Array;
  /** How long before seeding it was last written: its modification time. */
  readonly ageMs: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const gzipAsync = promisify(gzip);

/**
 * Trees seeded at once in this process: a fleet starting thousands of devices seeds them
 * a few at a time, so memory and disk bursts stay small and the agents keep polling.
 */
const SEEDING_AT_ONCE = 2;
let seedingNow = 0;
const seedingQueue: (() => void)[] = [];

async function inSeedingSlot<T>(work: () => Promise<T>): Promise<T> {
  if (seedingNow < SEEDING_AT_ONCE) seedingNow += 1;
  else await new Promise<void>((resolve) => seedingQueue.push(resolve)); // the slot is handed over, not counted again
  try {
    return await work();
  } finally {
    const next = seedingQueue.shift();
    if (next) next();
    else seedingNow -= 1;
  }
}

/**
 * Seeds a simulated device's file system once: when `filesDir` exists it is left alone
 * (the device's files are its own from then on) and false is returned. The files are
 * built only when needed, written into a staging folder beside it and renamed into place,
 * so an interrupted seeding never leaves half a tree that would count as seeded.
 */
export function seedFileTree(filesDir: string, build: () => Promise<readonly SeedFile[]>, now: number): Promise<boolean> {
  return inSeedingSlot(() => seedOnce(filesDir, build, now));
}

async function seedOnce(filesDir: string, build: () => Promise<readonly SeedFile[]>, now: number): Promise<boolean> {
  if (await exists(filesDir)) return false;
  const parent = dirname(filesDir);
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const stagingPrefix = `${basename(filesDir)}.seeding-`;
  // a staging folder left by a crash mid-seeding is garbage
  for (const name of await readdir(parent)) {
    if (name.startsWith(stagingPrefix)) await rm(join(parent, name), { recursive: true, force: true });
  }
  const staging = join(parent, `${stagingPrefix}${randomBytes(4).toString('hex')}`);
  try {
    for (const file of await build()) {
      const host = join(staging, ...file.path.split('/').slice(1));
      await mkdir(dirname(host), { recursive: true });
      await writeFile(host, file.content);
      const modified = new Date(now - file.ageMs);
      await utimes(host, modified, modified);
    }
    await rename(staging, filesDir);
    return true;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/**
 * `count` log lines evenly spread (with jitter) over the `spanMs` before `endAt`, oldest
 * first, each a timestamp and one of `messages`.
 */
export function logText(messages: readonly LogMessage[], count: number, endAt: number, spanMs: number, random: SeededRandom): string {
  const lines: string[] = [];
  const step = spanMs / Math.max(1, count);
  const startAt = endAt - spanMs;
  for (let i = 0; i < count; i += 1) {
    const at = Math.floor(startAt + step * (i + random.next()));
    lines.push(`${new Date(at).toISOString()} ${random.pick(messages)(random)}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** A log of the device (in its tree and in log bundles): its file name, how busy it is, and what it says. */
export interface LogSource {
  readonly file: string;
  readonly entriesPerHour: number;
  readonly messages: readonly LogMessage[];
}

/**
 * The /logs folder: each log holds the last half hour to three hours (since its last
 * rotation); the busiest log also has its two earlier rotations, gzipped, an hour each.
 * Sizes follow how busy a log is — a few kB for an alarm log, several hundred kB for a
 * server's DICOM log — so a fleet of thousands stays in the hundreds of megabytes.
 */
export async function seededLogs(logs: readonly LogSource[], random: SeededRandom, now: number): Promise<SeedFile[]> {
  const files: SeedFile[] = [];
  const busiest = logs.reduce<LogSource | undefined>((top, log) => (!top || log.entriesPerHour > top.entriesPerHour ? log : top), undefined);
  for (const log of logs) {
    const hours = random.between(0.5, 3);
    const ageMs = Math.floor(random.between(0, 120_000));
    const count = Math.max(12, Math.round(log.entriesPerHour * hours));
    files.push({ path: `/logs/${log.file}`, content: logText(log.messages, count, now - ageMs, hours * HOUR_MS, random), ageMs });
    if (log !== busiest) continue;
    let endAge = ageMs + hours * HOUR_MS;
    for (const generation of [1, 2]) {
      const text = logText(log.messages, Math.round(log.entriesPerHour), now - endAge, HOUR_MS, random);
      files.push({ path: `/logs/${log.file}.${generation}.gz`, content: await gzipAsync(text), ageMs: Math.floor(endAge) });
      endAge += HOUR_MS;
    }
  }
  return files;
}

/** What the configuration and service folders say about the device. */
export interface DeviceIdentity {
  readonly serial: string;
  readonly modelName: string;
  readonly softwareVersion: string;
}

/** /config/settings.json: the settings read-configuration reports, as the device stores them. */
export function settingsFile(identity: DeviceIdentity, settings: Record<string, unknown>, random: SeededRandom): SeedFile {
  const content = `${JSON.stringify({ serial: identity.serial, model: identity.modelName, softwareVersion: identity.softwareVersion, settings }, null, 2)}\n`;
  return { path: '/config/settings.json', content, ageMs: ageInDays(random, 3, 90) };
}

/**
 * /service: a README for the field engineer, the calibration table (a binary file:
 * header, then float32 coefficients) and the report of the last preventive maintenance.
 */
export function serviceFiles(identity: DeviceIdentity, random: SeededRandom, now: number): SeedFile[] {
  const calibratedAge = ageInDays(random, 30, 330);
  const maintenanceAge = ageInDays(random, 10, 180);
  const readme = [
    `${identity.modelName} — service folder`,
    `Serial ${identity.serial}, software ${identity.softwareVersion}`,
    '',
    'calibration.dat   calibration table of the last field calibration (do not edit)',
    'reports/          preventive maintenance and self-test reports',
    '',
    'Files placed here by a remote service session are checked and logged by the device.',
    '',
  ].join('\n');
  const header = Buffer.from(`TETHER-CAL 1\nserial=${identity.serial}\ncalibrated=${new Date(now - calibratedAge).toISOString()}\n\n`, 'ascii');
  const table = Buffer.alloc(512 * 4);
  for (let i = 0; i < 512; i += 1) table.writeFloatLE(1 + random.gaussian() * 0.01, i * 4);
  const maintained = new Date(now - maintenanceAge).toISOString();
  const report = [
    `Preventive maintenance report — ${identity.modelName}, serial ${identity.serial}`,
    `Date: ${maintained.slice(0, 10)}`,
    '',
    'Visual inspection ........... PASS',
    'Electrical safety ........... PASS',
    'Self-test (extended) ........ PASS',
    'Calibration verified ........ PASS',
    '',
    `Next maintenance due: ${new Date(now - maintenanceAge + 365 * DAY_MS).toISOString().slice(0, 10)}`,
    '',
  ].join('\n');
  return [
    { path: '/service/README.txt', content: readme, ageMs: ageInDays(random, 200, 400) },
    { path: '/service/calibration.dat', content: Buffer.concat([header, table]), ageMs: calibratedAge },
    { path: `/service/reports/pm-${maintained.slice(0, 10)}.txt`, content: report, ageMs: maintenanceAge },
  ];
}

/** A file's age in days, drawn from `random`, as milliseconds. */
export function ageInDays(random: SeededRandom, min: number, max: number): number {
  return Math.floor(random.between(min, max) * DAY_MS);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
