import { utilityProcess } from 'electron';
import { createInterface } from 'node:readline';
import type { LaunchedProcess, ProcessLauncher } from '../services/process-launcher.ts';

/**
 * The packaged app's simulator launcher: Electron's utilityProcess running the bundled
 * simulator entry (out/main/simulator.js). Its native module (better-sqlite3) is rebuilt
 * for Electron's ABI by electron-builder at packaging time.
 */
export class UtilityProcessLauncher implements ProcessLauncher {
  constructor(private readonly entry: string) {}

  launch(args: readonly string[]): LaunchedProcess {
    const child = utilityProcess.fork(this.entry, [...args], { stdio: 'pipe', serviceName: 'Tether simulator' });
    const lines = child.stdout ? createInterface({ input: child.stdout }) : undefined;
    return {
      get pid() {
        return child.pid;
      },
      onLine: (listener) => lines?.on('line', listener),
      onStderr: (listener) => child.stderr?.on('data', (d: Buffer) => listener(d.toString())),
      onExit: (listener) => child.once('exit', (code) => listener(code)),
      // utilityProcess has no stdin: control lines go over its message port
      write: (line) => child.postMessage({ line }),
      kill: () => void child.kill(),
    };
  }
}
