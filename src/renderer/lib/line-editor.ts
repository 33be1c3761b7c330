/**
 * Line editing for a line-based service console, done in the terminal as a telnet client
 * in line mode does: keys are echoed locally, Backspace erases, Ctrl+C drops the line,
 * Enter sends the whole line. Pure, so its behaviour is tested without a terminal.
 */
export interface LineEditResult {
  /** What the terminal shows (echo, erase sequences, new lines). */
  echo: string;
  /** Complete lines to send to the device, each ending in "\r\n". */
  send: string[];
}

/** Longest line kept; further keys are ignored (the device refuses long lines anyway). */
const MAX_LINE = 1024;
// eslint-disable-next-line no-control-regex -- an escape sequence starts with the ESC control character
const ESCAPE_SEQUENCE = /\x1b\[[0-9;]*[A-Za-z~]/g;

export class LineEditor {
  private line = '';

  /** Feeds what the terminal delivered (a key, or pasted text). */
  input(data: string): LineEditResult {
    let echo = '';
    const send: string[] = [];
    // arrow and function keys (escape sequences) have no meaning in line mode
    for (const char of data.replace(ESCAPE_SEQUENCE, '')) {
      if (char === '\r' || char === '\n') {
        send.push(`${this.line}\r\n`);
        this.line = '';
        echo += '\r\n';
      } else if (char === '\x7f' || char === '\b') {
        if (this.line.length > 0) {
          this.line = this.line.slice(0, -1);
          echo += '\b \b';
        }
      } else if (char === '\x03') {
        this.line = '';
        echo += '^C\r\n';
        send.push('\r\n');
      } else if (char >= ' ' && this.line.length < MAX_LINE) {
        this.line += char;
        echo += char;
      }
    }
    return { echo, send };
  }
}
