import type { Socket } from 'node:net';

/** An HTTP response's status line and headers, as a proxy or a web server answered. */
export interface HttpHead {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
}

/** Why no head could be read: the peer closed, or sent something that is not HTTP. */
export class HttpHeadError extends Error {
  constructor(
    readonly reason: 'closed' | 'not-http',
    message: string,
  ) {
    super(message);
    this.name = 'HttpHeadError';
  }
}

const MAX_HEAD_BYTES = 64 * 1024;

/**
 * Reads one response head from the socket and stops there, leaving the socket paused for
 * whatever comes next (a TLS handshake inside a CONNECT tunnel). Bytes past the head are
 * put back. Callers bound the wait; this only settles on data, close or error.
 */
export function readHttpHead(socket: Socket): Promise<HttpHead> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const cleanup = (): void => {
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    const fail = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onEnd = (): void => fail(new HttpHeadError('closed', 'the connection was closed before an HTTP answer'));
    const onError = (error: Error): void => fail(error);
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) {
          if (buffered.length > MAX_HEAD_BYTES) return fail(new HttpHeadError('not-http', 'the answer has no end of HTTP headers'));
          continue;
        }
        cleanup();
        const rest = buffered.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        const head = parseHead(buffered.subarray(0, end).toString('latin1'));
        if (!head) return reject(new HttpHeadError('not-http', `the answer is not HTTP: "${printable(buffered.subarray(0, 40))}"`));
        return resolve(head);
      }
    };
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
    onReadable();
  });
}

function parseHead(text: string): HttpHead | undefined {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const match = /^HTTP\/\d(?:\.\d)? (\d{3})(?: .*)?$/.exec(statusLine);
  if (!match) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(match[1]), headers };
}

function printable(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
}
