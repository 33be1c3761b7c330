import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DiagnosticContext } from '../../../../agent-sim/agent/device.ts';
import { createDeviceFiles } from '../../../../agent-sim/agent/files/device-files.ts';
import { LocalAuditFile } from '../../../../agent-sim/agent/local-audit.ts';
import { type SimulatedDevice, createSimulatedDevice } from '../../../../agent-sim/devices/index.ts';
import { writeLogBundle } from '../../../../agent-sim/devices/log-bundle.ts';
import { SeededRandom } from '../../../../agent-sim/devices/random.ts';
import { DEVICE_MODELS, DEVICE_MODEL_IDS, type DeviceModelId } from '#contract/device-models';
import { DIAGNOSTIC_CATALOG } from '#contract/protocol/diagnostics';
import { waitFor } from '../../../helpers/wait.ts';

/** The simulated devices' file trees: seeded once, the same for the same serial and time, cheap. */
const NOW = Date.UTC(2025, 5, 2, 9, 30);
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-tree-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function device(modelId: DeviceModelId, folder: string, serial = `${DEVICE_MODELS[modelId].serialPrefix}-TREE01`, now = NOW): SimulatedDevice {
  return createSimulatedDevice({ serial, modelId, filesDir: path.join(dir, folder), diagnosticStepMs: 1, now: () => now });
}

/** Every file under a folder: relative path → size, modification time, content. */
function tree(root: string): Map<string, { size: number; mtimeMs: number; content: Buffer }> {
  const out = new Map<string, { size: number; mtimeMs: number; content: Buffer }>();
  for (const rel of fs.readdirSync(root, { recursive: true }) as string[]) {
    const full = path.join(root, rel);
    const info = fs.statSync(full);
    if (info.isFile()) out.set(rel, { size: info.size, mtimeMs: info.mtimeMs, content: fs.readFileSync(full) });
  }
  return out;
}

function context(): DiagnosticContext & { lines: string[] } {
  const lines: string[] = [];
  return { signal: new AbortController().signal, progress: () => undefined, log: (line) => lines.push(line), lines };
}

describe.each(DEVICE_MODEL_IDS)('the %s file tree', (modelId) => {
  it('holds the model\'s roots with logs, configuration and service files, all reachable through DeviceFiles', async () => {
    const sim = device(modelId, 'files');
    expect(await sim.seedFiles()).toBe(true);
    const audit = new LocalAuditFile(path.join(dir, 'audit.jsonl'));
    try {
      const files = createDeviceFiles({ filesDir: path.join(dir, 'files'), modelId, audit });
      const roots = (await files.list('/')).entries.map((e) => e.path);
      expect(roots.sort()).toEqual([...DEVICE_MODELS[modelId].files.roots].sort());
      const logs = (await files.list('/logs')).entries;
      expect(logs.length).toBeGreaterThanOrEqual(6);
      expect(logs.every((e) => e.type === 'file' && e.size > 0 && Date.parse(e.modifiedAt) <= NOW)).toBe(true);
      const config = (await files.list('/config')).entries.map((e) => e.name);
      expect(config).toEqual(['protocols.xml', 'settings.json']);
      const service = (await files.list('/service')).entries.map((e) => e.name);
      expect(service).toEqual(['reports', 'README.txt', 'calibration.dat']);
      for (const entry of logs) expect((await files.openForSend(entry.path)).size).toBe(entry.size);
    } finally {
      audit.close();
    }

    const files = tree(path.join(dir, 'files'));
    const settings = JSON.parse(files.get('config/settings.json')!.content.toString('utf8')) as { serial: string; model: string };
    expect(settings).toMatchObject({ serial: `${DEVICE_MODELS[modelId].serialPrefix}-TREE01`, model: DEVICE_MODELS[modelId].name });
    expect(files.get('config/protocols.xml')!.content.toString('utf8')).toMatch(/^<\?xml version="1.0"/);
    expect(files.get('service/calibration.dat')!.content.subarray(0, 12).toString('ascii')).toBe('TETHER-CAL 1');
    // rotated logs are real gzip, and every log line starts with a timestamp before "now"
    const rotated = [...files.keys()].filter((name) => name.endsWith('.gz'));
    expect(rotated).toHaveLength(2);
    for (const name of rotated) {
      const lines = gunzipSync(files.get(name)!.content).toString('utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThan(10);
      expect(Date.parse(lines[0]!.slice(0, 24))).toBeLessThan(NOW);
    }
    // small enough that a fleet of thousands stays well under gigabytes
    const total = [...files.values()].reduce((sum, f) => sum + f.size, 0);
    expect(total).toBeGreaterThan(20_000);
    expect(total).toBeLessThan(modelId === 'radimetrics' ? 1_500_000 : 400_000);
  });
});

describe('seeding', () => {
  it('is deterministic: the same serial and time give the same bytes and times; another serial differs', async () => {
    await device('radimetrics', 'a').seedFiles();
    await device('radimetrics', 'b').seedFiles();
    await device('radimetrics', 'c', 'RAD-OTHER').seedFiles();
    const a = tree(path.join(dir, 'a'));
    const b = tree(path.join(dir, 'b'));
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [name, file] of a) {
      expect(b.get(name)?.content.equals(file.content), name).toBe(true);
      expect(b.get(name)?.mtimeMs, name).toBe(file.mtimeMs);
    }
    const c = tree(path.join(dir, 'c'));
    expect(c.get('logs/dicom-listener.log')?.content.equals(a.get('logs/dicom-listener.log')!.content)).toBe(false);
    expect(a.has('exports/dose-report-2025-05.csv')).toBe(true);
  });

  it('happens once: an existing tree is left as the device changed it, by the same device or a new one', async () => {
    const first = device('stellant-flex', 'files');
    expect(await first.seedFiles()).toBe(true);
    expect(await first.seedFiles()).toBe(true); // the same seeding, not a second one
    const settings = path.join(dir, 'files', 'config', 'settings.json');
    fs.writeFileSync(settings, '{"changed":true}\n');
    fs.rmSync(path.join(dir, 'files', 'logs', 'alarms.log'));

    expect(await device('stellant-flex', 'files').seedFiles()).toBe(false);
    expect(fs.readFileSync(settings, 'utf8')).toBe('{"changed":true}\n');
    expect(fs.existsSync(path.join(dir, 'files', 'logs', 'alarms.log'))).toBe(false);
  });

  it('clears a staging folder an interrupted seeding left behind, and never leaves one itself', async () => {
    fs.mkdirSync(path.join(dir, 'files.seeding-deadbeef', 'logs'), { recursive: true });
    expect(await device('intego', 'files').seedFiles()).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['files']);
  });

  it('starts with the device, and not at all for a device without a file system', async () => {
    const started = device('mrxperion', 'files');
    started.start();
    try {
      await waitFor(() => fs.existsSync(path.join(dir, 'files', 'logs', 'system.log')), { what: 'the tree seeded at start' });
    } finally {
      started.stop();
    }
    const bare = createSimulatedDevice({ serial: 'MRX-BARE01', modelId: 'mrxperion' });
    expect(bare.filesDir).toBeUndefined();
    expect(await bare.seedFiles()).toBe(false);
    expect(fs.readdirSync(dir)).toEqual(['files']);
  });
});

describe('the log bundle on a device with a file system', () => {
  it('is a real .tar.gz in /logs holding every collected log, its size and entries as reported', async () => {
    const sim = device('stellant-flex', 'files');
    const ctx = context();
    const result = DIAGNOSTIC_CATALOG['collect-log-bundle'].result.parse(await sim.runDiagnostic('collect-log-bundle', { hours: 4, includeSystem: true }, ctx));
    const bundle = path.join(dir, 'files', 'logs', result.fileName);
    expect(fs.statSync(bundle).size).toBe(result.sizeBytes);
    expect(ctx.lines.at(-1)).toContain(`/logs/${result.fileName}`);

    const members = execFileSync('tar', ['-tzf', bundle], { encoding: 'utf8' }).trim().split('\n');
    expect(members).toEqual(['controller.log', 'injection-history.log', 'alarms.log', 'service.log', 'system.log']);
    const text = execFileSync('tar', ['-xzOf', bundle], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(text.trim().split('\n')).toHaveLength(result.entries);
    // nothing half-written is ever visible under the logs folder
    expect(fs.readdirSync(path.join(dir, 'files', 'logs')).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps the newest three bundles', async () => {
    const names: string[] = [];
    for (const hour of [1, 2, 3, 4]) {
      const sim = device('intego', 'files', 'ITG-TREE01', NOW + hour * 3_600_000);
      names.push((await sim.runDiagnostic('collect-log-bundle', { hours: 1 }, context()) as { fileName: string }).fileName);
    }
    const kept = fs.readdirSync(path.join(dir, 'files', 'logs')).filter((name) => name.endsWith('.tar.gz')).sort();
    expect(kept).toEqual(names.slice(1));
  });

  it('is removed, not left half-written, when canceled while it is being written', async () => {
    const logsDir = path.join(dir, 'files', 'logs');
    const controller = new AbortController();
    const messages = [() => 'INFO  [dicom] association released'];
    const writing = writeLogBundle(logsDir, { serial: 'RAD-TREE01', fileName: 'RAD-TREE01-logs-20250602T093000Z.tar.gz', logs: [{ file: 'dicom-listener.log', entries: 500_000, messages }], hours: 168, now: NOW }, new SeededRandom(1), controller.signal);
    await waitFor(() => fs.existsSync(logsDir) && fs.readdirSync(logsDir).some((name) => name.endsWith('.tmp')), { what: 'the bundle being written' });
    controller.abort();
    await expect(writing).rejects.toMatchObject({ name: 'AbortError' });
    expect(fs.readdirSync(logsDir)).toEqual([]);
  });
});
