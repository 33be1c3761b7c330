import { readFileSync } from 'node:fs';

/** The product version, from package.json (one place to bump). */
export const TETHER_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
