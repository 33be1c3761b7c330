import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from '../helpers/http.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  url: string;
  caPem: string;
  admin: { username: string; password: string };
  /** Creates a user through the API and returns their password. */
  addUser(username: string): Promise<string>;
  stop(): Promise<void>;
}

/** A real Tether server as its own process, for the sign-in error flows of the console. */
export async function startServerProcess(): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-e2e-server-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', `${ROOT}server/main.ts`, '--data-dir', dataDir, '--port', '0', '--log-level', 'info'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let password = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const pw = /password: (\S+)/.exec(line);
      if (pw?.[1]) password = pw[1];
      try {
        const log = JSON.parse(line) as { msg?: string; url?: string };
        if (log.msg === 'tether server listening' && log.url) {
          clearTimeout(timer);
          resolve(log.url);
        }
      } catch {
        // the banner lines are not JSON
      }
    });
  });
  const caPem = readFileSync(join(dataDir, 'pki', 'ca.cert.pem'), 'utf8');
  const admin = { username: 'admin', password };
  return {
    url,
    caPem,
    admin,
    async addUser(username) {
      const login = await request<{ accessToken: string }>(url, caPem, 'POST', '/api/v1/auth/login', { body: admin });
      const userPassword = `${username}-correct-horse-battery`;
      const created = await request(url, caPem, 'POST', '/api/v1/users', {
        token: login.body.accessToken,
        body: { username, displayName: username, role: 'engineer', password: userPassword, customerIds: 'all' },
      });
      if (created.status !== 201) throw new Error(`could not create ${username}: ${JSON.stringify(created.body)}`);
      return userPassword;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
