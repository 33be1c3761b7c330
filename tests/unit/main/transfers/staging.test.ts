import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { uploadTarget } from '../../../../src/main/services/transfers/upload-plan.ts';
import { StagingArea } from '../../../../src/main/services/transfers/staging.ts';

const area = (maxBytes = 1024 * 1024) => new StagingArea(join(mkdtempSync(join(tmpdir(), 'tether-staging-')), 'staging'), maxBytes);

describe('the staging area (browser mode uploads)', () => {
  it('keeps a handed-over file under its id with a safe name, whole', async () => {
    const staging = area();
    const id = randomUUID();
    const staged = await staging.receive(id, '../../etc/passwd', Readable.from([Buffer.from('hello '), Buffer.from('device')]), 12);
    expect(staged.size).toBe(12);
    expect(staging.resolve(id)).toBe(staged.path);
    expect(staged.path).toBe(join(staging.dir, id, '.._.._etc_passwd'));
    expect(readFileSync(staged.path, 'utf8')).toBe('hello device');
    expect(staging.owns(staged.path)).toBe(true);
    await staging.discard(staged.path);
    expect(() => staging.resolve(id)).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
  });

  it('refuses more than its limit, declared or streamed, and keeps nothing of it', async () => {
    const staging = area(1000);
    await expect(staging.receive(randomUUID(), 'big.bin', Readable.from([Buffer.alloc(10)]), 5000)).rejects.toMatchObject({ code: 'FILE_TOO_LARGE' });
    await expect(staging.receive(randomUUID(), 'big.bin', Readable.from([Buffer.alloc(600), Buffer.alloc(600)]))).rejects.toMatchObject({ code: 'FILE_TOO_LARGE' });
    expect(readdirSync(staging.dir)).toEqual([]);
  });

  it('refuses a copy cut short, a non-UUID id, and a second copy under the same id', async () => {
    const staging = area();
    await expect(staging.receive(randomUUID(), 'a.txt', Readable.from([Buffer.alloc(10)]), 20)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(staging.receive('../x', 'a.txt', Readable.from([Buffer.alloc(1)]))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const id = randomUUID();
    await staging.receive(id, 'a.txt', Readable.from([Buffer.alloc(1)]));
    await expect(staging.receive(id, 'a.txt', Readable.from([Buffer.alloc(1)]))).rejects.toMatchObject({ code: 'FILE_EXISTS' });
    expect(() => staging.resolve('not-a-uuid')).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
  });

  it('sweeps old copies no transfer claims, and keeps claimed and recent ones', async () => {
    const staging = area();
    const [old, claimed, recent] = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of [old, claimed, recent]) await staging.receive(id, 'f.txt', Readable.from([Buffer.from('x')]));
    const longAgo = new Date(Date.now() - 48 * 3600_000);
    for (const id of [old, claimed]) utimesSync(join(staging.dir, id), longAgo, longAgo);
    staging.sweep(new Set([claimed]), 24 * 3600_000);
    expect(existsSync(join(staging.dir, old))).toBe(false);
    expect(existsSync(join(staging.dir, claimed))).toBe(true);
    expect(existsSync(join(staging.dir, recent))).toBe(true);
  });

  it('is not fooled into discarding files outside it', async () => {
    const staging = area();
    const outside = join(staging.dir, '..', 'keep');
    mkdirSync(outside);
    await staging.discard(join(outside, 'file'));
    expect(existsSync(outside)).toBe(true);
  });
});

describe('where an upload lands on the device', () => {
  const roots = ['/logs', '/config', '/service'];

  it('puts the file into a folder ending in "/" or a root, under its own name', () => {
    expect(uploadTarget('/service/', 'tool.bin', roots)).toBe('/service/tool.bin');
    expect(uploadTarget('/service', 'tool.bin', roots)).toBe('/service/tool.bin');
    expect(uploadTarget('/config/protocols/', 'p.xml', roots)).toBe('/config/protocols/p.xml');
  });

  it('takes a full path as the destination itself', () => {
    expect(uploadTarget('/config/settings.json', 'mine.json', roots)).toBe('/config/settings.json');
  });

  it('refuses anything outside the model’s roots, or a path that climbs', () => {
    for (const path of ['/etc/', '/', '/logs/../etc/passwd', '/tmp/x', '/logs//x']) {
      expect(() => uploadTarget(path, 'x.bin', roots), path).toThrow(expect.objectContaining({ code: 'PATH_NOT_ALLOWED' }));
    }
  });
});
