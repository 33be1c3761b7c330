import { PassThrough } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../../server/http/errors.ts';
import { TetherError } from '#contract/errors';

/**
 * The server's error answers for a streamed response that fails before its first byte (a
 * chunk whose sender stopped). A plain Fastify over HTTP on loopback with the server's own
 * error handling; the stream is ours, so it fails exactly where the test says.
 */
describe('error answers for a stream that fails before its first byte', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function serve(failure: Error): Promise<string> {
    app = Fastify({ logger: false });
    installErrorHandling(app);
    app.get('/chunk', (_request, reply) => {
      const body = new PassThrough();
      setTimeout(() => body.destroy(failure), 20);
      // as a chunk is sent: binary, with the length and range of bytes that never come
      return reply
        .status(206)
        .headers({ 'content-type': 'application/octet-stream', 'content-length': 4096, 'content-range': 'bytes 0-4095/8192', 'tether-chunk-index': 0 })
        .send(body);
    });
    return app.listen({ host: '127.0.0.1', port: 0 });
  }

  it('answers the stream’s TetherError as JSON, without the chunk’s headers', async () => {
    const base = await serve(new TetherError('CHUNK_NOT_READY', 'the sender stopped before this chunk was whole; ask for it again'));
    const response = await fetch(`${base}/chunk`);
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('content-range')).toBeNull();
    expect(response.headers.get('tether-chunk-index')).toBeNull();
    expect(await response.json()).toEqual({ error: { code: 'CHUNK_NOT_READY', message: 'the sender stopped before this chunk was whole; ask for it again' } });
  });

  it('answers any other failure as the server’s own 500, not Fastify’s', async () => {
    const base = await serve(new Error('disk went away'));
    const response = await fetch(`${base}/chunk`);
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('INTERNAL');
    expect(body.error.message).not.toContain('disk went away');
  });
});
