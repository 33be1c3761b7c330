import { describe, expect, it } from 'vitest';
import { LineEditor } from '../../../src/renderer/lib/line-editor.ts';

describe('terminal line editing for a service console', () => {
  it('echoes keys and sends the whole line on Enter', () => {
    const editor = new LineEditor();
    expect(editor.input('s')).toEqual({ echo: 's', send: [] });
    expect(editor.input('tatus')).toEqual({ echo: 'tatus', send: [] });
    expect(editor.input('\r')).toEqual({ echo: '\r\n', send: ['status\r\n'] });
  });

  it('erases with Backspace, and not past the start of the line', () => {
    const editor = new LineEditor();
    editor.input('lo');
    expect(editor.input('\x7f')).toEqual({ echo: '\b \b', send: [] });
    expect(editor.input('\x7f\x7f')).toEqual({ echo: '\b \b', send: [] });
    editor.input('log 5');
    expect(editor.input('\r').send).toEqual(['log 5\r\n']);
  });

  it('drops the line on Ctrl+C and ignores arrow keys', () => {
    const editor = new LineEditor();
    editor.input('rm -rf');
    expect(editor.input('\x03')).toEqual({ echo: '^C\r\n', send: ['\r\n'] });
    expect(editor.input('\x1b[A\x1b[Dhelp\r').send).toEqual(['help\r\n']);
  });

  it('sends each line of pasted text', () => {
    expect(new LineEditor().input('status\nitems\n').send).toEqual(['status\r\n', 'items\r\n']);
  });
});
