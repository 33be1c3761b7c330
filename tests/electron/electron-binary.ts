import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The Electron binary if it was downloaded, else why not — without triggering the
 * download (`require('electron')` would try it on first use).
 */
export function electronBinary(): { path: string } | { skip: string } {
  const pkg = join(ROOT, 'node_modules', 'electron');
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) {
    return { skip: 'the Electron binary is not installed here (node_modules/electron/path.txt missing; its download needs internet — run `npm start` once on a connected machine)' };
  }
  const binary = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? { path: binary } : { skip: `the Electron binary named in path.txt is missing (${binary})` };
}
