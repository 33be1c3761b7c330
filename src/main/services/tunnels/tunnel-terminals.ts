import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { TetherError } from '#contract/errors';
import type { TunnelManager } from './tunnel-manager.ts';

export interface TunnelTerminalsOptions {
  /** Output of a terminal, or its end (`closed`). */
  onData: (event: { terminalId: string; data: string; closed: boolean }) => void;
}

/**
 * Terminals on `console` tunnels: main connects to the tunnel's own local port, like any
 * other client would, and relays text both ways for the renderer's xterm. A terminal ends
 * when its connection does (the device said bye, the tunnel closed) or when closed here.
 */
export class TunnelTerminals {
  private readonly sockets = new Map<string, net.Socket>();

  constructor(
    private readonly tunnels: TunnelManager,
    private readonly options: TunnelTerminalsOptions,
  ) {}

  async open(tunnelId: string): Promise<string> {
    const tunnel = this.tunnels.get(tunnelId);
    if (tunnel.kind !== 'console') throw new TetherError('VALIDATION_FAILED', 'a terminal opens only on a service console tunnel');
    const port = tunnel.localPort;
    if (tunnel.closed || port === null) throw new TetherError('TUNNEL_NOT_OPEN', 'the tunnel is closed');
    const terminalId = randomUUID();
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (err) => reject(new TetherError('TUNNEL_NOT_OPEN', `the tunnel's local port did not answer: ${err.message}`)));
    });
    const decoder = new StringDecoder('utf8');
    this.sockets.set(terminalId, socket);
    socket.on('data', (chunk: Buffer) => {
      const data = decoder.write(chunk);
      if (data) this.options.onData({ terminalId, data, closed: false });
    });
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      this.sockets.delete(terminalId);
      this.options.onData({ terminalId, data: decoder.end(), closed: true });
    });
    const stopFollowing = tunnel.onClosed(() => socket.destroy());
    socket.once('close', stopFollowing);
    return terminalId;
  }

  write(terminalId: string, data: string): void {
    const socket = this.sockets.get(terminalId);
    if (!socket || socket.destroyed || socket.writableEnded) throw new TetherError('NOT_FOUND', 'that terminal is closed');
    socket.write(data);
  }

  close(terminalId: string): void {
    this.sockets.get(terminalId)?.destroy();
  }

  closeAll(): void {
    for (const socket of this.sockets.values()) socket.destroy();
  }
}
