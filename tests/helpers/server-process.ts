import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoginResponse } from '#contract/api/auth';
import { ApiClient } from './http.ts';
import { freePort } from './ports.ts';
import { spawnTs, stopChild, waitForLine } from './processes.ts';
import { tempDir } from './server.ts';

/**
 * The server as its own process (`server/main.ts`), on a fixed port and data dir so it can
 * be killed with SIGKILL like a crashed host and started again where it was.
 */
export class ServerProcess {
  child: ChildProcess | undefined;
  url = '';
  ca = '';
  /** The bootstrap administrator's password, printed once on the first start. */
  adminPassword = '';

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    private readonly extraArgs: readonly string[],
  ) {}

  static async start(extraArgs: readonly string[] = []): Promise<ServerProcess> {
    // the tunnel relay ports are ephemeral too, so servers of tests running side by side never collide
    const config = join(tempDir('tether-config-'), 'server.json');
    writeFileSync(config, JSON.stringify({ tunnels: { agentPort: 0, consolePort: 0 } }));
    const server = new ServerProcess(tempDir(), await freePort(), ['--config', config, ...extraArgs]);
    await server.restart();
    return server;
  }

  /** Starts the process (again) and waits until it listens. */
  async restart(): Promise<void> {
    const child = spawnTs('server/main.ts', ['--data-dir', this.dataDir, '--port', String(this.port), '--log-level', 'info', ...this.extraArgs]);
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    await waitForLine(child, (line) => line.includes('tether server listening'));
    const printed = /password: (\S+)/.exec(output);
    if (printed?.[1]) this.adminPassword = printed[1];
    this.child = child;
    this.url = `https://127.0.0.1:${this.port}`;
    this.ca = readFileSync(join(this.dataDir, 'pki', 'ca.cert.pem'), 'utf8');
  }

  /** A client signed in as the bootstrap administrator. */
  async admin(): Promise<ApiClient> {
    const login = await new ApiClient(this.url, this.ca).post<LoginResponse>('/api/v1/auth/login', { username: 'admin', password: this.adminPassword });
    if (login.status !== 200) throw new Error(`admin sign-in failed: ${JSON.stringify(login.body)}`);
    return new ApiClient(this.url, this.ca, login.body.accessToken);
  }

  /** SIGKILL: no shutdown code runs, as in a crash or power cut of the process. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    this.child = undefined;
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child);
    this.child = undefined;
  }
}
