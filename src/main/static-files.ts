import { existsSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

export const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/**
 * The file under `root` a URL path names, or undefined when it escapes the root (`..`,
 * encoded or not), does not exist or is not a file. `/` is the app's index.html.
 */
export function resolveStaticFile(root: string, urlPathname: string): { file: string; mime: string } | undefined {
  let pathname: string;
  try {
    pathname = decodeURIComponent(urlPathname);
  } catch {
    return undefined;
  }
  if (pathname.includes('\0')) return undefined;
  const relative = normalize(pathname === '/' ? '/index.html' : pathname);
  const file = join(root, relative);
  if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) return undefined;
  return { file, mime: MIME_TYPES[extname(file)] ?? 'application/octet-stream' };
}
