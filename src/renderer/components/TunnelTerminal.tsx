import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { Button, Group, Text } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { LineEditor } from '../lib/line-editor.ts';
import { notifyError } from '../lib/notify.ts';
import { useBridge } from '../stores/context.ts';
import './TunnelTerminal.css';

/**
 * A terminal on a tunnel to a line-based service console: main connects to the tunnel's
 * local port and relays text (`tunnels.terminal.*`); this shows it in xterm, with local
 * line editing. Closing it (or unmounting) closes that connection only, not the tunnel.
 */
export function TunnelTerminal({ tunnelId, title, onClose }: { tunnelId: string; title: string; onClose: () => void }) {
  const bridge = useBridge();
  const host = useRef<HTMLDivElement>(null);
  const [ended, setEnded] = useState(false);

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const terminal = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 13, rows: 18, scrollback: 2000, fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' });
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.open(element);
    fit.fit();
    terminal.focus();
    const editor = new LineEditor();
    let terminalId: string | null = null;
    let disposed = false;
    type Output = { terminalId: string; data: string; closed: boolean };
    // the device's greeting may overtake the answer that names the terminal: hold it until then
    let early: Output[] = [];
    const show = (event: Output) => {
      if (event.data) terminal.write(event.data);
      if (event.closed) {
        terminal.write('\r\n\x1b[2m[connection closed]\x1b[0m\r\n');
        setEnded(true);
      }
    };
    const offData = bridge.on('tunnels.terminal.data', (event) => {
      if (terminalId === null) early.push(event);
      else if (event.terminalId === terminalId) show(event);
    });
    const input = terminal.onData((data) => {
      const { echo, send } = editor.input(data);
      if (echo) terminal.write(echo);
      if (!terminalId) return;
      for (const line of send) void bridge.invoke('tunnels.terminal.write', { terminalId, data: line }).catch((err: unknown) => notifyError('The line was not sent', err));
    });
    const resize = new ResizeObserver(() => fit.fit());
    resize.observe(element);
    bridge.invoke('tunnels.terminal.open', { id: tunnelId }).then(
      (opened) => {
        if (disposed) void bridge.invoke('tunnels.terminal.close', { terminalId: opened.terminalId }).catch(() => undefined);
        else {
          terminalId = opened.terminalId;
          for (const event of early) if (event.terminalId === terminalId) show(event);
          early = [];
        }
      },
      (err: unknown) => {
        notifyError('The terminal could not connect', err);
        setEnded(true);
      },
    );
    return () => {
      disposed = true;
      resize.disconnect();
      input.dispose();
      offData();
      if (terminalId) void bridge.invoke('tunnels.terminal.close', { terminalId }).catch(() => undefined);
      terminal.dispose();
    };
  }, [bridge, tunnelId]);

  return (
    <section className="tunnel-terminal" aria-label={`Terminal: ${title}`}>
      <Group justify="space-between" gap="xs" className="tunnel-terminal__bar">
        <Text size="xs" fw={600}>
          {title}
          {ended ? ' — disconnected' : ''}
        </Text>
        <Button size="compact-xs" variant="default" onClick={onClose}>
          Close terminal
        </Button>
      </Group>
      <div ref={host} className="tunnel-terminal__screen" data-testid="tunnel-terminal" />
    </section>
  );
}
