/**
 * `npm start`: builds the console and launches it in Electron. Where the Electron binary
 * cannot be obtained (no internet on first launch, an air-gapped laptop, CI) it says so in
 * one sentence and starts browser mode instead. `npm run start:web` goes straight to
 * browser mode.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const webOnly = process.argv.includes('--web');
const passThrough = process.argv.slice(2).filter((a) => a !== '--web');

function build(): void {
  process.stdout.write('Building the console…\n');
  const result = spawnSync(process.execPath, [`${ROOT}node_modules/electron-vite/bin/electron-vite.js`, 'build', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write('The console could not be built; see the messages above.\n');
    process.exit(result.status ?? 1);
  }
}

/** The Electron binary's path, or why there is none (first launch downloads it). */
function electronBinary(): { path: string } | { reason: string } {
  const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  if (probe.status === 0 && probe.stdout) return { path: probe.stdout };
  const why = `${probe.stderr ?? ''}${probe.error ? probe.error.message : ''}`.split('\n').map((l) => l.trim()).find((l) => /failed|error|ENOTFOUND|EAI_AGAIN|fetch/i.test(l));
  return { reason: why ? `its binary could not be downloaded: ${why.replace(/^TypeError: /, '')}` : 'its binary is not installed' };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code) => process.exit(code ?? 0));
}

function browserMode(): void {
  run(process.execPath, ['--import', 'tsx', `${ROOT}src/main/browser.ts`, ...passThrough]);
}

build();
if (webOnly) {
  browserMode();
} else {
  const electron = electronBinary();
  if ('path' in electron) {
    run(electron.path, [ROOT, ...passThrough], { ...process.env, TETHER_NODE_PATH: process.execPath });
  } else {
    process.stdout.write(`Electron could not be started here (${electron.reason.slice(0, 160)}), so the console opens in browser mode instead.\n`);
    browserMode();
  }
}
