import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildServer, type TetherServer } from '../../server/app.ts';
import { type ServerConfigInput, parseServerConfig } from '../../server/config.ts';
import type { LoginResponse } from '#contract/api/auth';
import { ApiClient } from './http.ts';

export interface TestServer {
  server: TetherServer;
  url: string;
  ca: string;
  dataDir: string;
  admin: { username: string; password: string };
  /** A client signed in as the bootstrap administrator. */
  adminClient: ApiClient;
  /** A client with no token. */
  anonymous: ApiClient;
  login(username: string, password: string): Promise<ApiClient>;
  close(): Promise<void>;
  /** Closes and removes the data dir. */
  destroy(): Promise<void>;
}

export function tempDir(prefix = 'tether-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A real server on an ephemeral loopback port over real TLS, with its own data dir.
 * Pass `dataDir` (and `admin`) to reopen an earlier one, as after a restart.
 */
export async function startTestServer(
  overrides: Partial<ServerConfigInput> = {},
  reuse?: { dataDir: string; admin: { username: string; password: string } },
): Promise<TestServer> {
  const dataDir = reuse?.dataDir ?? tempDir();
  // relay ports too are ephemeral: tests run side by side
  const config = parseServerConfig({ dataDir, host: '127.0.0.1', port: 0, logLevel: 'silent', ...overrides, tunnels: { agentPort: 0, consolePort: 0, ...overrides.tunnels } });
  const server = await buildServer(config, { logger: pino({ level: 'silent' }) });
  const url = await server.listen();
  const admin = reuse?.admin ?? server.bootstrapAdmin;
  if (!admin) throw new Error('no bootstrap admin: pass the earlier credentials when reusing a data dir');
  const ca = server.ctx.pki.ca.certPem;
  const anonymous = new ApiClient(url, ca);
  const login = async (username: string, password: string) => {
    const res = await anonymous.post<LoginResponse>('/api/v1/auth/login', { username, password });
    if (res.status !== 200) throw new Error(`login ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return new ApiClient(url, ca, res.body.accessToken);
  };
  const adminClient = await login(admin.username, admin.password);
  return {
    server,
    url,
    ca,
    dataDir,
    admin,
    adminClient,
    anonymous,
    login,
    close: () => server.close(),
    async destroy() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
