import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A running helper process as the simulator supervisor sees it. */
export interface LaunchedProcess {
  readonly pid: number | undefined;
  onLine(listener: (line: string) => void): void;
  onStderr(listener: (text: string) => void): void;
  onExit(listener: (code: number | null) => void): void;
  write(line: string): void;
  kill(): void;
}

/**
 * Starts the bundled simulator. Browser mode and development use a Node child process
 * (this file); the packaged Electron app uses `utilityProcess`
 * (src/main/electron/utility-launcher.ts). Same interface, so the supervisor is one.
 */
export interface ProcessLauncher {
  launch(args: readonly string[]): LaunchedProcess;
}

/** Runs a TypeScript entry of this repository with the current Node and tsx. */
export class NodeProcessLauncher implements ProcessLauncher {
  constructor(
    private readonly script: string,
    private readonly nodePath: string = process.execPath,
  ) {}

  launch(args: readonly string[]): LaunchedProcess {
    const child = spawn(this.nodePath, ['--import', 'tsx', this.script, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    const lines = createInterface({ input: child.stdout });
    return {
      pid: child.pid,
      onLine: (listener) => lines.on('line', listener),
      onStderr: (listener) => child.stderr.on('data', (d: Buffer) => listener(d.toString())),
      onExit: (listener) => child.once('exit', (code) => listener(code)),
      write: (line) => {
        if (child.stdin.writable) child.stdin.write(`${line}\n`);
      },
      kill: () => child.kill('SIGTERM'),
    };
  }
}
