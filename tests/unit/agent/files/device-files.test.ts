import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_LIST_ENTRIES, createDeviceFiles, type DeviceFilesOptions } from '../../../../agent-sim/agent/files/device-files.ts';
import type { DeviceFiles } from '../../../../agent-sim/agent/files/types.ts';
import { LocalAuditFile, verifyLocalAudit, type LocalAuditEntry } from '../../../../agent-sim/agent/local-audit.ts';
import { DEVICE_MODELS } from '#contract/device-models';
import { type ErrorCode, TetherError } from '#contract/errors';
import { PARTIAL_SUFFIX } from '#contract/transfers';

/**
 * The agent's door to device files over a real folder tree: a stellant-flex device
 * (roots /logs, /config, /service) beside an "outside" folder that must never be reached.
 */
let dir: string;
let filesDir: string;
let outside: string;
let auditPath: string;
let audit: LocalAuditFile;

const SECRET = 'the hospital network password\n';

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-files-'));
  filesDir = path.join(dir, 'device-files');
  outside = path.join(dir, 'outside');
  for (const folder of ['logs/archive', 'config', 'service']) fs.mkdirSync(path.join(filesDir, folder), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), SECRET);
  fs.writeFileSync(path.join(filesDir, 'logs/system.log'), 'boot ok\n');
  fs.writeFileSync(path.join(filesDir, 'logs/alarms.log'), 'no alarms\n');
  fs.writeFileSync(path.join(filesDir, 'config/settings.json'), '{"language":"en"}\n');
  auditPath = path.join(dir, 'audit.jsonl');
  audit = new LocalAuditFile(auditPath);
});

afterEach(() => {
  audit.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function deviceFiles(options: Partial<DeviceFilesOptions> = {}): DeviceFiles {
  return createDeviceFiles({ filesDir, modelId: 'stellant-flex', audit, ...options });
}

const host = (devicePath: string) => path.join(filesDir, ...devicePath.split('/').slice(1));

function auditEntries(): LocalAuditEntry[] {
  return fs.readFileSync(auditPath, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as LocalAuditEntry);
}

/** Every path under the test folder with its kind and content hash: "nothing created or written" compares two of these. */
function snapshot(): string[] {
  const out: string[] = [];
  const walk = (folder: string) => {
    for (const name of fs.readdirSync(folder).sort()) {
      const full = path.join(folder, name);
      const rel = path.relative(dir, full);
      if (rel === 'audit.jsonl') continue;
      const info = fs.lstatSync(full);
      if (info.isSymbolicLink()) out.push(`${rel} -> ${fs.readlinkSync(full)}`);
      else if (info.isDirectory()) {
        out.push(`${rel}/`);
        walk(full);
      } else if (info.isFile()) {
        // sparse giants are compared by size and time; everything else by content
        const content = info.size < 1024 * 1024 ? createHash('sha256').update(fs.readFileSync(full)).digest('hex').slice(0, 16) : `mtime ${info.mtimeMs}`;
        out.push(`${rel} ${info.size} ${content}`);
      }
      else out.push(`${rel} (special)`);
    }
  };
  walk(dir);
  return out;
}

/**
 * Runs an operation that must be refused: it rejects with a TetherError of `code`, one
 * `files.refused` entry {path, code, reason} is appended to the local audit, and no file
 * anywhere under the test folder was created, changed or removed.
 */
async function expectRefused(operation: () => Promise<unknown>, code: ErrorCode, auditedPath: string): Promise<TetherError> {
  const before = snapshot();
  const entriesBefore = auditEntries().length;
  const error = await operation().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(TetherError);
  const refusal = error as TetherError;
  expect(refusal.code, refusal.message).toBe(code);
  const added = auditEntries().slice(entriesBefore);
  expect(added).toHaveLength(1);
  expect(added[0]).toMatchObject({ action: 'files.refused', outcome: 'denied', detail: { path: auditedPath, code, reason: refusal.message } });
  expect(snapshot()).toEqual(before);
  return refusal;
}

const BAD_PATHS: readonly [string, string][] = [
  ['a parent segment inside the roots', '/logs/../config/settings.json'],
  ['a parent segment leading out', '/logs/../../outside/secret.txt'],
  ['a relative path', '../outside/secret.txt'],
  ['a path without a leading slash', 'logs/system.log'],
  ['a doubled leading slash', '//logs/system.log'],
  ['a doubled inner slash', '/logs//system.log'],
  ['a dot segment', '/logs/./system.log'],
  ['a trailing slash', '/logs/'],
  ['backslashes', '/logs\\..\\..\\outside\\secret.txt'],
  ['a NUL byte', '/logs/system.log\u0000.txt'],
  ['an absolute path outside the roots', '/etc/passwd'],
  ['a root name as a prefix', '/logsx/system.log'],
  ['a path longer than 1024 characters', `/logs/${'a'.repeat(1100)}`],
  ['an empty path', ''],
];

describe('paths are checked as text before the disk is touched', () => {
  for (const [what, bad] of BAD_PATHS) {
    it(`refuses ${what} for reading, listing and writing, audited, nothing created`, async () => {
      const files = deviceFiles();
      const audited = bad.slice(0, 1024);
      await expectRefused(() => files.openForSend(bad), 'PATH_NOT_ALLOWED', audited);
      await expectRefused(() => files.list(bad), 'PATH_NOT_ALLOWED', audited);
      await expectRefused(() => files.prepareReceive(bad, 10, true), 'PATH_NOT_ALLOWED', audited);
    });
  }

  it('never reads or writes the device root itself', async () => {
    const files = deviceFiles();
    await expectRefused(() => files.openForSend('/'), 'PATH_NOT_ALLOWED', '/');
    await expectRefused(() => files.prepareReceive('/', 1, true), 'PATH_NOT_ALLOWED', '/');
  });

  it('treats encoded-looking names as plain names and never decodes them', async () => {
    const files = deviceFiles();
    fs.writeFileSync(host('/logs/%2e%2e%2fsecret.txt'), 'a log named oddly\n');
    const sent = await files.openForSend('/logs/%2e%2e%2fsecret.txt');
    expect(sent).toEqual({ hostPath: fs.realpathSync(host('/logs/%2e%2e%2fsecret.txt')), size: 18 });
    expect((await files.list('/logs')).entries.map((e) => e.name)).toContain('%2e%2e%2fsecret.txt');
    // "%2e%2e" is a folder name that does not exist, not a way up
    await expectRefused(() => files.openForSend('/logs/%2e%2e/%2e%2e/outside/secret.txt'), 'FILE_NOT_FOUND', '/logs/%2e%2e/%2e%2e/outside/secret.txt');
    await expectRefused(() => files.prepareReceive('/logs/..%2f..%2foutside/x.txt', 1, false), 'FILE_NOT_FOUND', '/logs/..%2f..%2foutside/x.txt');
  });
});

describe('symlinks never lead out of a root', () => {
  it('refuses a file link pointing outside for reading and writing, and leaves it out of listings', async () => {
    fs.symlinkSync(path.join(outside, 'secret.txt'), host('/logs/escape.txt'));
    const files = deviceFiles();
    const error = await expectRefused(() => files.openForSend('/logs/escape.txt'), 'PATH_NOT_ALLOWED', '/logs/escape.txt');
    expect(error.message).toMatch(/leads outside \/logs/);
    await expectRefused(() => files.prepareReceive('/logs/escape.txt', 4, true), 'PATH_NOT_ALLOWED', '/logs/escape.txt');
    expect((await files.list('/logs')).entries.map((e) => e.name)).toEqual(['archive', 'alarms.log', 'system.log']);
    expect(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe(SECRET);
  });

  it('refuses a folder link pointing outside for listing, reading and writing', async () => {
    fs.symlinkSync(outside, host('/logs/outdir'));
    const files = deviceFiles();
    await expectRefused(() => files.list('/logs/outdir'), 'PATH_NOT_ALLOWED', '/logs/outdir');
    await expectRefused(() => files.openForSend('/logs/outdir/secret.txt'), 'PATH_NOT_ALLOWED', '/logs/outdir/secret.txt');
    await expectRefused(() => files.prepareReceive('/logs/outdir/planted.txt', 4, false), 'PATH_NOT_ALLOWED', '/logs/outdir/planted.txt');
    expect((await files.list('/logs')).entries.map((e) => e.name)).not.toContain('outdir');
    expect(fs.readdirSync(outside)).toEqual(['secret.txt']);
  });

  it('refuses a link into another root: each path stays inside its own root', async () => {
    fs.symlinkSync(host('/config/settings.json'), host('/logs/settings.json'));
    const files = deviceFiles();
    await expectRefused(() => files.openForSend('/logs/settings.json'), 'PATH_NOT_ALLOWED', '/logs/settings.json');
  });

  it('follows links that stay inside the root, showing them as what they point to', async () => {
    fs.symlinkSync('system.log', host('/logs/current.log'));
    fs.symlinkSync('archive', host('/logs/old'));
    const files = deviceFiles();
    const { entries } = await files.list('/logs');
    expect(entries.map((e) => [e.name, e.type])).toEqual([['archive', 'directory'], ['old', 'directory'], ['alarms.log', 'file'], ['current.log', 'file'], ['system.log', 'file']]);
    expect(entries.find((e) => e.name === 'current.log')).toMatchObject({ path: '/logs/current.log', size: 8 });
    expect(await files.openForSend('/logs/current.log')).toEqual({ hostPath: fs.realpathSync(host('/logs/system.log')), size: 8 });
  });

  it('leaves dangling links and link loops out of listings and refuses a loop', async () => {
    fs.symlinkSync('nowhere.log', host('/logs/dangling.log'));
    fs.symlinkSync('loop-b', host('/logs/loop-a'));
    fs.symlinkSync('loop-a', host('/logs/loop-b'));
    const files = deviceFiles();
    expect((await files.list('/logs')).entries.map((e) => e.name)).toEqual(['archive', 'alarms.log', 'system.log']);
    await expectRefused(() => files.openForSend('/logs/loop-a'), 'PATH_NOT_ALLOWED', '/logs/loop-a');
    await expectRefused(() => files.openForSend('/logs/dangling.log'), 'FILE_NOT_FOUND', '/logs/dangling.log');
  });

  it('refuses a root that is itself a link out of the device, and leaves it out of "/" (audited)', async () => {
    fs.rmSync(host('/service'), { recursive: true });
    fs.symlinkSync(outside, host('/service'));
    const files = deviceFiles();
    await expectRefused(() => files.list('/service'), 'PATH_NOT_ALLOWED', '/service');
    await expectRefused(() => files.openForSend('/service/secret.txt'), 'PATH_NOT_ALLOWED', '/service/secret.txt');
    const entriesBefore = auditEntries().length;
    expect((await files.list('/')).entries.map((e) => e.path)).toEqual(['/config', '/logs']);
    expect(auditEntries().slice(entriesBefore)).toMatchObject([{ action: 'files.refused', detail: { path: '/service', code: 'PATH_NOT_ALLOWED' } }]);
  });

  it('refuses a link planted at the target of a receive, whatever the overwrite flag', async () => {
    fs.symlinkSync(path.join(outside, 'secret.txt'), host('/config/new.json'));
    const files = deviceFiles();
    const error = await expectRefused(() => files.prepareReceive('/config/new.json', 10, true), 'PATH_NOT_ALLOWED', '/config/new.json');
    expect(error.message).toMatch(/is a link/);
    await expectRefused(() => files.prepareReceive('/config/new.json', 10, false), 'PATH_NOT_ALLOWED', '/config/new.json');
  });

  it('refuses a link planted at the partial file of a receive', async () => {
    fs.symlinkSync(path.join(outside, 'planted.bin'), host(`/config/new.json${PARTIAL_SUFFIX}`));
    const files = deviceFiles();
    await expectRefused(() => files.prepareReceive('/config/new.json', 10, false), 'PATH_NOT_ALLOWED', '/config/new.json');
    expect(fs.readdirSync(outside)).toEqual(['secret.txt']);
  });

  it('refuses a partial file that is a hard link to a file outside (it would be appended to)', async () => {
    fs.linkSync(path.join(outside, 'secret.txt'), host(`/config/new.json${PARTIAL_SUFFIX}`));
    const files = deviceFiles();
    await expectRefused(() => files.prepareReceive('/config/new.json', 10, false), 'PATH_NOT_ALLOWED', '/config/new.json');
    expect(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe(SECRET);
  });

  it('refuses to commit when a link was planted at the target after the receive started', async () => {
    const files = deviceFiles();
    const { hostPath, partialPath } = await files.prepareReceive('/config/new.json', 5, true);
    fs.writeFileSync(partialPath, 'hello');
    fs.symlinkSync(path.join(outside, 'secret.txt'), hostPath);
    await expectRefused(() => files.commitReceive(partialPath, hostPath, true), 'PATH_NOT_ALLOWED', '/config/new.json');
    expect(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe(SECRET);
    expect(fs.readFileSync(partialPath, 'utf8')).toBe('hello');
  });

  it('refuses to commit when the target folder was swapped for a link after the receive started', async () => {
    fs.mkdirSync(host('/config/tools'));
    const files = deviceFiles();
    const { hostPath, partialPath } = await files.prepareReceive('/config/tools/tool.bin', 5, false);
    fs.writeFileSync(partialPath, 'hello');
    fs.renameSync(host('/config/tools'), host('/config/tools-old'));
    fs.symlinkSync(outside, host('/config/tools'));
    await expectRefused(() => files.commitReceive(partialPath, hostPath, false), 'PATH_NOT_ALLOWED', '/config/tools/tool.bin');
    expect(fs.readdirSync(outside)).toEqual(['secret.txt']);
  });
});

describe('only regular files are read or written', () => {
  let socket: net.Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
    socket = undefined;
  });

  it('refuses pipes, sockets and folders, and leaves special files out of listings', async () => {
    execFileSync('mkfifo', [host('/logs/pipe')]);
    socket = net.createServer();
    const listening = socket;
    await new Promise<void>((resolve) => listening.listen(host('/logs/agent.sock'), resolve));
    const files = deviceFiles();

    expect((await files.list('/logs')).entries.map((e) => e.name)).toEqual(['archive', 'alarms.log', 'system.log']);
    expect((await expectRefused(() => files.openForSend('/logs/pipe'), 'PATH_NOT_ALLOWED', '/logs/pipe')).message).toMatch(/a pipe, not a regular file/);
    expect((await expectRefused(() => files.openForSend('/logs/agent.sock'), 'PATH_NOT_ALLOWED', '/logs/agent.sock')).message).toMatch(/a socket/);
    expect((await expectRefused(() => files.openForSend('/logs/archive'), 'PATH_NOT_ALLOWED', '/logs/archive')).message).toMatch(/a folder/);
    await expectRefused(() => files.openForSend('/logs'), 'PATH_NOT_ALLOWED', '/logs');
    await expectRefused(() => files.prepareReceive('/logs/pipe', 1, true), 'PATH_NOT_ALLOWED', '/logs/pipe');
    await expectRefused(() => files.prepareReceive('/logs/archive', 1, true), 'PATH_NOT_ALLOWED', '/logs/archive');
    await expectRefused(() => files.prepareReceive('/logs', 1, true), 'PATH_NOT_ALLOWED', '/logs');
  });
});

describe('sizes stay within the model\'s limit', () => {
  it('refuses to send a file over the limit (a sparse file just past it) and sends one at the limit', async () => {
    const files = deviceFiles({ maxFileBytes: 1024 });
    fs.closeSync(fs.openSync(host('/logs/big.bin'), 'w'));
    fs.truncateSync(host('/logs/big.bin'), 1025);
    fs.writeFileSync(host('/logs/exact.bin'), Buffer.alloc(1024));
    const error = await expectRefused(() => files.openForSend('/logs/big.bin'), 'FILE_TOO_LARGE', '/logs/big.bin');
    expect(error.message).toMatch(/1025 bytes; this device sends at most 1024/);
    expect((await files.openForSend('/logs/exact.bin')).size).toBe(1024);
  });

  it('applies the model\'s real limit (8 GiB on an injector) to a sparse file one byte over', async () => {
    const files = deviceFiles();
    expect(files.maxFileBytes).toBe(DEVICE_MODELS['stellant-flex'].files.maxFileBytes);
    fs.closeSync(fs.openSync(host('/service/image.iso'), 'w'));
    fs.truncateSync(host('/service/image.iso'), files.maxFileBytes + 1);
    await expectRefused(() => files.openForSend('/service/image.iso'), 'FILE_TOO_LARGE', '/service/image.iso');
    await expectRefused(() => files.prepareReceive('/service/next.iso', files.maxFileBytes + 1, false), 'FILE_TOO_LARGE', '/service/next.iso');
    await expect(files.prepareReceive('/service/next.iso', files.maxFileBytes, false)).resolves.toMatchObject({ hostPath: fs.realpathSync(host('/service')) + '/next.iso' });
  });

  it('refuses a size that is no size', async () => {
    const files = deviceFiles();
    await expectRefused(() => files.prepareReceive('/service/a.bin', -1, false), 'VALIDATION_FAILED', '/service/a.bin');
    await expectRefused(() => files.prepareReceive('/service/a.bin', 1.5, false), 'VALIDATION_FAILED', '/service/a.bin');
  });
});

describe('receiving a file', () => {
  it('prepares without creating anything, then commits the verified partial file under its final name', async () => {
    const files = deviceFiles();
    const before = snapshot();
    const { hostPath, partialPath } = await files.prepareReceive('/service/tool.bin', 5, false);
    expect(hostPath).toBe(path.join(fs.realpathSync(host('/service')), 'tool.bin'));
    expect(partialPath).toBe(`${hostPath}${PARTIAL_SUFFIX}`);
    expect(snapshot()).toEqual(before);

    fs.writeFileSync(partialPath, 'tools');
    await files.commitReceive(partialPath, hostPath, false);
    expect(fs.readFileSync(hostPath, 'utf8')).toBe('tools');
    expect(fs.existsSync(partialPath)).toBe(false);
    expect(fs.readdirSync(host('/service'))).toEqual(['tool.bin']);
    expect(auditEntries().filter((e) => e.action.startsWith('files.'))).toEqual([]);
  });

  it('accepts a partial file left by an earlier attempt (the receiver resumes from it)', async () => {
    const files = deviceFiles();
    fs.writeFileSync(host(`/service/tool.bin${PARTIAL_SUFFIX}`), 'to');
    const { partialPath } = await files.prepareReceive('/service/tool.bin', 5, false);
    expect(fs.readFileSync(partialPath, 'utf8')).toBe('to');
  });

  it('refuses an existing file without overwrite (FILE_EXISTS) and replaces it with overwrite', async () => {
    const files = deviceFiles();
    const error = await expectRefused(() => files.prepareReceive('/config/settings.json', 20, false), 'FILE_EXISTS', '/config/settings.json');
    expect(error.message).toMatch(/already exists/);
    const { hostPath, partialPath } = await files.prepareReceive('/config/settings.json', 20, true);
    fs.writeFileSync(partialPath, '{"language":"de"}\n');
    await files.commitReceive(partialPath, hostPath, true);
    expect(fs.readFileSync(host('/config/settings.json'), 'utf8')).toBe('{"language":"de"}\n');
    expect(fs.readdirSync(host('/config'))).toEqual(['settings.json']);
  });

  it('does not clobber a file that appeared under the final name while receiving without overwrite', async () => {
    const files = deviceFiles();
    const { hostPath, partialPath } = await files.prepareReceive('/config/new.json', 3, false);
    fs.writeFileSync(partialPath, 'new');
    fs.writeFileSync(hostPath, 'made meanwhile');
    await expectRefused(() => files.commitReceive(partialPath, hostPath, false), 'FILE_EXISTS', '/config/new.json');
    expect(fs.readFileSync(hostPath, 'utf8')).toBe('made meanwhile');
    expect(fs.readFileSync(partialPath, 'utf8')).toBe('new');
  });

  it('refuses a missing folder, a file as folder, a reserved name, and commits of anything but its own partial file', async () => {
    const files = deviceFiles();
    await expectRefused(() => files.prepareReceive('/service/missing/tool.bin', 1, false), 'FILE_NOT_FOUND', '/service/missing/tool.bin');
    await expectRefused(() => files.prepareReceive('/config/settings.json/tool.bin', 1, false), 'PATH_NOT_ALLOWED', '/config/settings.json/tool.bin');
    await expectRefused(() => files.prepareReceive(`/service/tool.bin${PARTIAL_SUFFIX}`, 1, false), 'PATH_NOT_ALLOWED', `/service/tool.bin${PARTIAL_SUFFIX}`);

    const { hostPath, partialPath } = await files.prepareReceive('/service/tool.bin', 1, false);
    await expectRefused(() => files.commitReceive(partialPath, hostPath, false), 'FILE_NOT_FOUND', '/service/tool.bin');
    fs.writeFileSync(partialPath, 'x');
    await expectRefused(() => files.commitReceive(host('/config/settings.json'), hostPath, false), 'PATH_NOT_ALLOWED', '/service/tool.bin');
    const stray = path.join(outside, 'tool.bin');
    await expectRefused(() => files.commitReceive(`${stray}${PARTIAL_SUFFIX}`, stray, true), 'PATH_NOT_ALLOWED', stray);
  });
});

describe('listing a folder', () => {
  it('lists the roots for "/" and a folder with folders first, then by name, with size and modification time', async () => {
    const files = deviceFiles();
    const modified = new Date('2025-03-04T05:06:07.000Z');
    fs.utimesSync(host('/logs/system.log'), modified, modified);
    fs.mkdirSync(host('/logs/Crash'));

    const roots = await files.list('/');
    expect(roots.path).toBe('/');
    expect(roots.entries.map((e) => [e.path, e.name, e.type, e.size])).toEqual([
      ['/config', 'config', 'directory', 0],
      ['/logs', 'logs', 'directory', 0],
      ['/service', 'service', 'directory', 0],
    ]);

    const logs = await files.list('/logs');
    expect(logs.path).toBe('/logs');
    expect(logs.entries.map((e) => e.name)).toEqual(['Crash', 'archive', 'alarms.log', 'system.log']);
    expect(logs.entries.find((e) => e.name === 'system.log')).toEqual({ name: 'system.log', path: '/logs/system.log', type: 'file', size: 8, modifiedAt: '2025-03-04T05:06:07.000Z' });
  });

  it('offers only the roots that exist on the device', async () => {
    const files = deviceFiles({ modelId: 'radimetrics' });
    expect(files.roots).toEqual(['/logs', '/config', '/service', '/exports']);
    expect((await files.list('/')).entries.map((e) => e.path)).toEqual(['/config', '/logs', '/service']);
    await expectRefused(() => files.list('/exports'), 'FILE_NOT_FOUND', '/exports');
  });

  it('refuses a file or a missing folder', async () => {
    const files = deviceFiles();
    expect((await expectRefused(() => files.list('/logs/system.log'), 'PATH_NOT_ALLOWED', '/logs/system.log')).message).toMatch(/a file, not a folder/);
    await expectRefused(() => files.list('/logs/nowhere'), 'FILE_NOT_FOUND', '/logs/nowhere');
  });

  it('leaves out names no device path can carry (backslashes, control characters)', async () => {
    fs.writeFileSync(host('/logs/bad\\name.log'), 'x');
    fs.writeFileSync(host('/logs/line\nbreak.log'), 'x');
    const files = deviceFiles();
    expect((await files.list('/logs')).entries.map((e) => e.name)).toEqual(['archive', 'alarms.log', 'system.log']);
  });

  it(`shows at most ${MAX_LIST_ENTRIES} entries: the folders, then the files first by name`, async () => {
    const many = host('/logs/many');
    fs.mkdirSync(many);
    for (const name of ['b-folder', 'a-folder', 'c-folder']) fs.mkdirSync(path.join(many, name));
    const names = Array.from({ length: MAX_LIST_ENTRIES + 2 }, (_, i) => `trace-${String(i).padStart(5, '0')}.log`);
    for (const name of names) fs.writeFileSync(path.join(many, name), '');
    const { entries } = await deviceFiles().list('/logs/many');
    expect(entries).toHaveLength(MAX_LIST_ENTRIES);
    expect(entries.slice(0, 4).map((e) => e.name)).toEqual(['a-folder', 'b-folder', 'c-folder', 'trace-00000.log']);
    expect(entries.at(-1)?.name).toBe(names[MAX_LIST_ENTRIES - 4]);
  });
});

describe('the local audit of refusals', () => {
  it('records every refusal in a chain that verifies, never with file content', async () => {
    const files = deviceFiles();
    await files.openForSend('/etc/shadow').catch(() => undefined);
    await files.list('/logs/nowhere').catch(() => undefined);
    await files.prepareReceive('/config/settings.json', 1, false).catch(() => undefined);
    const refusals = auditEntries().filter((e) => e.action === 'files.refused');
    expect(refusals.map((e) => [e.detail.operation, e.detail.path, e.detail.code])).toEqual([
      ['send', '/etc/shadow', 'PATH_NOT_ALLOWED'],
      ['list', '/logs/nowhere', 'FILE_NOT_FOUND'],
      ['receive', '/config/settings.json', 'FILE_EXISTS'],
    ]);
    expect(fs.readFileSync(auditPath, 'utf8')).not.toContain('language');
    expect(verifyLocalAudit(auditPath)).toMatchObject({ ok: true, checked: 3 });
  });
});
