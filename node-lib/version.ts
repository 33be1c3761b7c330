import packageJson from '../package.json' with { type: 'json' };

/**
 * The product version, from package.json (one place to bump). Imported, not read from
 * disk, so the bundled main process and simulator carry it too.
 */
export const TETHER_VERSION: string = packageJson.version;
