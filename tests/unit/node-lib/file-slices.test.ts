import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FileRange, FileUploadStack, UPLOAD_READ_BUFFERS, UPLOAD_READ_BYTES, fileSlices } from '#node-lib/file-slices';
import { createCertificateAuthority, issueCertificate } from '../../helpers/tls-targets.ts';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The HTTP stack the agent and the console upload files with, against a real HTTPS server
 * on loopback that takes a PATCH body as slowly as it is told to (so the socket pushes
 * back and read buffers wait for their bytes to leave).
 */
describe('sending file ranges with reused read buffers', () => {
  let dir: string;
  let server: https.Server;
  let base: string;
  let ca: string;
  /** Per request path: the SHA-256 and length of the body the server received. */
  const received = new Map<string, { sha256: string; bytes: number }>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-file-slices-'));
    const authority = await createCertificateAuthority('File Slices Test CA');
    const certificate = await issueCertificate(authority, ['localhost']);
    ca = authority.certPem;
    server = https.createServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      // "slow" paths read a piece, then pause a moment: the sender's writes back up
      const slow = req.url?.startsWith('/slow');
      req.on('data', (data: Buffer) => {
        hash.update(data);
        bytes += data.length;
        if (slow) {
          req.pause();
          setTimeout(() => req.resume(), 2);
        }
      });
      req.on('end', () => {
        received.set(req.url ?? '', { sha256: hash.digest('hex'), bytes });
        res.writeHead(204, { 'upload-offset': String(bytes), 'tus-resumable': '1.0.0' }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const stack = () => new FileUploadStack({ ca, servername: 'localhost' });

  it('sends exactly the range, through a slow receiver, allocating its few buffers once', async () => {
    const data = randomBytes(12 * MiB + 123);
    const path = join(dir, 'twelve.bin');
    writeFileSync(path, data);
    const slices = fileSlices(path, data.length);
    const { value } = await slices.slice(MiB + 7, 11 * MiB + 7);
    expect(value).toBeInstanceOf(FileRange);
    const request = stack().createRequest('PATCH', `${base}/slow/one`);
    request.setHeader('Upload-Offset', String(MiB + 7));
    const progress: number[] = [];
    request.setProgressHandler((sent) => progress.push(sent));
    const allocations = vi.spyOn(Buffer, 'allocUnsafeSlow');
    let response;
    try {
      response = await request.send(value);
      expect(allocations).toHaveBeenCalledTimes(UPLOAD_READ_BUFFERS);
      expect(allocations.mock.calls.every(([size]) => size === UPLOAD_READ_BYTES)).toBe(true);
    } finally {
      allocations.mockRestore();
    }
    expect(response.getStatus()).toBe(204);
    expect(response.getHeader('Upload-Offset')).toBe(String(10 * MiB));
    expect(received.get('/slow/one')).toEqual({ sha256: sha(data.subarray(MiB + 7, 11 * MiB + 7)), bytes: 10 * MiB });
    expect(progress.at(-1)).toBe(10 * MiB);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('sends the short last range and an empty body (a HEAD), and refuses a body it cannot send', async () => {
    const data = randomBytes(1000);
    const path = join(dir, 'small.bin');
    writeFileSync(path, data);
    const slices = fileSlices(path, data.length);
    const last = await slices.slice(900, 5000);
    expect(last.done).toBe(true);
    expect((await stack().createRequest('PATCH', `${base}/last`).send(last.value)).getStatus()).toBe(204);
    expect(received.get('/last')).toEqual({ sha256: sha(data.subarray(900)), bytes: 100 });
    expect((await slices.slice(1000, 2000)).value).toBeNull();
    expect((await stack().createRequest('HEAD', `${base}/head`).send(null)).getStatus()).toBe(204);
    await expect(stack().createRequest('PATCH', `${base}/other`).send(Buffer.from('x'))).rejects.toThrow(/file ranges/);
  });

  it('fails with a clear error when the file is shorter than the range it was to send', async () => {
    const path = join(dir, 'shrunk.bin');
    writeFileSync(path, randomBytes(MiB));
    const request = stack().createRequest('PATCH', `${base}/shrunk`);
    await expect(request.send(new FileRange(path, 0, 3 * MiB))).rejects.toThrow(`${path} ended at byte ${MiB}, before the ${3 * MiB} bytes to send from byte 0`);
    expect(received.has('/shrunk')).toBe(false);
  });

  it('settles, refused, when the request is aborted mid-way: the server never gets the whole body', async () => {
    const path = join(dir, 'abort.bin');
    writeFileSync(path, randomBytes(16 * MiB));
    const request = stack().createRequest('PATCH', `${base}/slow/abort`);
    let sent = 0;
    request.setProgressHandler((n) => (sent = n));
    const sending = request.send(new FileRange(path, 0, 16 * MiB));
    const outcome = sending.then(() => 'answered', () => 'rejected');
    while (sent === 0) await sleep(5);
    await request.abort();
    expect(await outcome).toBe('rejected');
    expect(received.has('/slow/abort')).toBe(false);
  });
});
