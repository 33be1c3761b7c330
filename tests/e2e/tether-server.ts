import { rmSync } from 'node:fs';
import { ServerProcess } from '../helpers/server-process.ts';

/** A real Tether server process for the console's sign-in flows, with a way to add users. */
export interface E2eServer {
  url: string;
  caPem: string;
  admin: { username: string; password: string };
  /** Creates an engineer through the API and returns their password. */
  addUser(username: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startServerProcess(): Promise<E2eServer> {
  const server = await ServerProcess.start();
  return {
    url: server.url,
    caPem: server.ca,
    admin: { username: 'admin', password: server.adminPassword },
    async addUser(username) {
      const userPassword = `${username}-correct-horse-battery`;
      const created = await (await server.admin()).post('/api/v1/users', { username, displayName: username, role: 'engineer', password: userPassword, customerIds: 'all' });
      if (created.status !== 201) throw new Error(`could not create ${username}: ${JSON.stringify(created.body)}`);
      return userPassword;
    },
    async stop() {
      await server.stop();
      rmSync(server.dataDir, { recursive: true, force: true });
    },
  };
}
