import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Starts one of the project's TypeScript programs as its own Node process (via tsx). */
export function spawnTs(script: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...options,
  });
}

/** Runs a program to completion and returns its exit code and output. */
export function runTs(script: string, args: readonly string[], options: SpawnOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnTs(script, args, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Resolves with the first stdout line that `match` accepts (parsed as JSON when it is JSON). */
export function waitForLine<T = unknown>(child: ChildProcess, match: (line: string, json: T | undefined) => boolean, timeoutMs = 60_000): Promise<{ line: string; json: T | undefined }> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) return reject(new Error('child has no stdout'));
    const lines = createInterface({ input: child.stdout });
    let stderr = '';
    const onStderr = (d: Buffer): void => {
      stderr += d.toString();
    };
    child.stderr?.on('data', onStderr);
    const done = (): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stderr?.off('data', onStderr);
      lines.close();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no matching line within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`process exited (${code}) before the expected line; stderr: ${stderr.slice(-2000)}`));
    };
    child.once('exit', onExit);
    lines.on('line', (line) => {
      let json: T | undefined;
      try {
        json = JSON.parse(line) as T;
      } catch {
        json = undefined;
      }
      if (!match(line, json)) return;
      done();
      resolve({ line, json });
    });
  });
}

/** Ends a child: SIGTERM, then SIGKILL if it lingers. Resolves with its exit code. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill(signal);
  });
}
