import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';
import { TetherError, parseErrorBody } from '#contract/errors';

/** What crosses one tunnel's local port, counted as it passes. */
export interface ConnectionMeter {
  toDevice(bytes: number): void;
  fromDevice(bytes: number): void;
}

/** A refusal body is a small JSON error; more than this is not ours. */
const MAX_REFUSAL_BYTES = 16 * 1024;

/**
 * Carries one TCP connection made to the local port as one HTTP/2 CONNECT stream on the
 * link: waits for the relay's 200 (the agent reached the target), then pipes both ways
 * with backpressure — each direction half-closes on its own, as TCP does. Resolves when
 * the connection is over; rejects with the relay's refusal (TUNNEL_UNREACHABLE, …), after
 * closing the local socket.
 */
export function carryConnection(socket: Socket, session: ClientHttp2Session, authority: string, meter: ConnectionMeter): Promise<void> {
  return new Promise((resolve, reject) => {
    let stream: ClientHttp2Stream;
    try {
      stream = session.request({ ':method': 'CONNECT', ':authority': authority });
    } catch (err) {
      socket.destroy();
      reject(new TetherError('SERVER_UNREACHABLE', `the tunnel's link is closing: ${(err as Error).message}`));
      return;
    }
    const abandon = () => stream.destroy();
    socket.once('close', abandon);
    stream.once('response', (headers) => {
      const status = Number(headers[':status']);
      if (status === 200) {
        let open = 2;
        const done = (err: Error | null | undefined) => {
          if (err) {
            socket.destroy();
            stream.destroy();
          }
          if (--open === 0 || err) resolve();
        };
        // counted by listening beside the pipes: a counting stream in between costs a hop per piece
        socket.on('data', (chunk: Buffer) => meter.toDevice(chunk.length));
        stream.on('data', (chunk: Buffer) => meter.fromDevice(chunk.length));
        pipeline(socket, stream, done);
        pipeline(stream, socket, done);
        return;
      }
      socket.off('close', abandon);
      socket.destroy();
      readRefusal(stream, status).then(reject, reject);
    });
    stream.once('error', (err: Error) => {
      socket.destroy();
      reject(new TetherError('SERVER_UNREACHABLE', `the tunnel's link broke: ${err.message}`));
    });
  });
}

/** The relay's refusal of a CONNECT stream as a TetherError (its JSON body, else the status). */
function readRefusal(stream: ClientHttp2Stream, status: number): Promise<TetherError> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fromStatus = () =>
      status === 502
        ? new TetherError('TUNNEL_UNREACHABLE', 'the device could not reach the service port')
        : new TetherError('SERVER_UNREACHABLE', `the relay refused the connection (HTTP ${status})`);
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REFUSAL_BYTES) chunks.push(chunk);
    });
    stream.once('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      const error = parseErrorBody(body);
      resolve(error ? new TetherError(error.error.code, error.error.message) : fromStatus());
      stream.destroy();
    });
    stream.once('error', () => resolve(fromStatus()));
    stream.once('close', () => resolve(fromStatus()));
  });
}
