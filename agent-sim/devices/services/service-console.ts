import net from 'node:net';
import { consoleBanner, consolePrompt, runConsoleCommand } from './console-commands.ts';
import type { ServiceStatusSource } from './status.ts';

/** A line longer than this is refused (and dropped) rather than buffered without bound. */
export const CONSOLE_MAX_LINE = 1024;

/**
 * The simulated line-based service console: a TCP server on loopback that greets, prints
 * a prompt, and answers each line (LF or CRLF) with runConsoleCommand. Line editing and
 * echo are the client's, as with a telnet client in line mode or `nc`.
 */
export function createServiceConsole(source: ServiceStatusSource): net.Server {
  return net.createServer((socket) => {
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    const write = (lines: string[]) => {
      for (const line of lines) socket.write(`${line}\r\n`);
    };
    const prompt = () => socket.write(consolePrompt(source.serial));
    write(consoleBanner(source));
    prompt();
    let pending = '';
    socket.on('data', (chunk: string) => {
      if (socket.writableEnded) return;
      pending += chunk;
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        const line = pending.slice(0, end).replace(/\r$/, '');
        pending = pending.slice(end + 1);
        const answer = runConsoleCommand(line, source);
        write(answer.lines);
        if (answer.close) {
          socket.end();
          return;
        }
        prompt();
      }
      if (pending.length > CONSOLE_MAX_LINE) {
        pending = '';
        write(['', `line too long (more than ${CONSOLE_MAX_LINE} characters); ignored`]);
        prompt();
      }
    });
  });
}
