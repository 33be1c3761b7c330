import type { Server, Socket } from 'node:net';
import { tunnelTargetOf } from '#contract/device-models';
import type { ServiceEndpoint } from '../../agent/device.ts';
import { createServiceConsole } from './service-console.ts';
import { createServicePage } from './service-page.ts';
import type { ServiceStatusSource } from './status.ts';

export type { ActiveAlarm, ServiceStatusSource } from './status.ts';

/**
 * The service ports of one simulated device, standing in for its own network: each
 * listens on 127.0.0.1, port 0, started the first time a tunnel asks for it and closed
 * with the device. Only its agent connects to them. Targets the simulator has nothing
 * for (Radimetrics' VNC desktop) have no endpoint, so a tunnel to them is unreachable.
 */
export class DeviceServices {
  private readonly started = new Map<string, Promise<{ server: Server; endpoint: ServiceEndpoint }>>();
  private readonly sockets = new Set<Socket>();
  private closed = false;

  constructor(private readonly source: ServiceStatusSource) {}

  async endpoint(targetId: string): Promise<ServiceEndpoint | undefined> {
    if (this.closed) return undefined;
    const target = tunnelTargetOf(this.source.modelId, targetId);
    if (!target || (target.kind !== 'http' && target.kind !== 'console')) return undefined;
    let starting = this.started.get(targetId);
    if (!starting) {
      const server = target.kind === 'http' ? createServicePage(this.source) : createServiceConsole(this.source);
      starting = this.listen(server);
      this.started.set(targetId, starting);
      // a failed start is tried again on the next request
      starting.catch(() => this.started.delete(targetId));
    }
    return (await starting).endpoint;
  }

  /** Closes every service and drops their connections at once. */
  async close(): Promise<void> {
    this.closed = true;
    const servers = [...this.started.values()];
    this.started.clear();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(
      servers.map(async (starting) => {
        const { server } = await starting.catch(() => ({ server: undefined }));
        if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
  }

  private listen(server: Server): Promise<{ server: Server; endpoint: ServiceEndpoint }> {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        if (address === null || typeof address === 'string') {
          reject(new Error('the simulated service has no TCP address'));
          return;
        }
        resolve({ server, endpoint: { host: '127.0.0.1', port: address.port } });
      });
    });
  }
}
