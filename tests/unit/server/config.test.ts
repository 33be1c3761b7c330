import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadServerConfig, parseServerConfig } from '../../../server/config.ts';
import { TetherError } from '#contract/errors';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-unit-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeConfig(content: string): string {
  const file = path.join(dir, 'server.json');
  fs.writeFileSync(file, content);
  return file;
}

/** The TetherError a load is refused with. */
function refusal(load: () => unknown): TetherError {
  try {
    load();
  } catch (err) {
    if (err instanceof TetherError) return err;
    throw err;
  }
  throw new Error('configuration was accepted');
}

describe('server configuration', () => {
  it('uses the defaults when nothing is given', () => {
    const config = loadServerConfig({}, {});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8443,
      hostnames: [],
      logLevel: 'info',
      pollWindowMs: 25_000,
      missedPollsBeforeMissing: 3,
      accessTokenTtlSeconds: 900,
      loginRateLimit: { max: 30, windowMs: 60_000 },
      bodyLimitBytes: 1024 * 1024,
    });
    expect(config.dataDir).toBe(path.resolve('.tether/server'));
  });

  it('makes a relative dataDir absolute', () => {
    const config = parseServerConfig({ dataDir: 'relative/data' });
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(config.dataDir).toBe(path.resolve('relative/data'));
    expect(loadServerConfig({ dataDir: './x' }, {}).dataDir).toBe(path.resolve('x'));
  });

  it('layers defaults < config file < environment < flags', () => {
    const file = writeConfig(JSON.stringify({ port: 9001, host: '0.0.0.0', dataDir: path.join(dir, 'from-file'), hostnames: ['file.example'], statusGraceMs: 1234 }));

    const fromFile = loadServerConfig({ config: file }, {});
    expect(fromFile).toMatchObject({ port: 9001, host: '0.0.0.0', dataDir: path.join(dir, 'from-file'), hostnames: ['file.example'], statusGraceMs: 1234, pollWindowMs: 25_000 });

    const env = { TETHER_PORT: '9002', TETHER_DATA_DIR: path.join(dir, 'from-env'), TETHER_HOSTNAMES: 'a.example, b.example,,10.0.0.5' };
    const fromEnv = loadServerConfig({ config: file }, env);
    expect(fromEnv).toMatchObject({ port: 9002, host: '0.0.0.0', dataDir: path.join(dir, 'from-env'), hostnames: ['a.example', 'b.example', '10.0.0.5'], statusGraceMs: 1234 });

    const fromFlags = loadServerConfig({ config: file, port: '9003', dataDir: path.join(dir, 'from-flags'), hostnames: 'flag.example' }, env);
    expect(fromFlags).toMatchObject({ port: 9003, host: '0.0.0.0', dataDir: path.join(dir, 'from-flags'), hostnames: ['flag.example'], statusGraceMs: 1234 });
  });

  it('finds the config file through TETHER_CONFIG when no flag names one', () => {
    const file = writeConfig(JSON.stringify({ port: 7001 }));
    expect(loadServerConfig({}, { TETHER_CONFIG: file }).port).toBe(7001);
  });

  it('ignores empty environment values and undefined flags', () => {
    const config = loadServerConfig({ port: undefined }, { TETHER_PORT: '', TETHER_HOST: '' });
    expect(config.port).toBe(8443);
    expect(config.host).toBe('127.0.0.1');
  });

  it('refuses an unreadable config file as CONFIG_INVALID naming the file', () => {
    const missing = path.join(dir, 'missing.json');
    const err = refusal(() => loadServerConfig({ config: missing }, {}));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(missing);

    const broken = writeConfig('{ "port": ');
    expect(refusal(() => loadServerConfig({ config: broken }, {})).code).toBe('CONFIG_INVALID');
  });

  it('refuses a config file that does not hold a JSON object', () => {
    for (const content of ['42', '"text"', 'null', '[1, 2]']) {
      const file = writeConfig(content);
      const err = refusal(() => loadServerConfig({ config: file }, {}));
      expect(err.code, content).toBe('CONFIG_INVALID');
      expect(err.message, content).toContain('JSON object');
    }
  });

  it('refuses an out-of-range port as CONFIG_INVALID naming port', () => {
    const err = refusal(() => loadServerConfig({ port: '70000' }, {}));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('port');
    expect(refusal(() => loadServerConfig({}, { TETHER_PORT: '70000' })).message).toContain('port');
  });

  it('refuses a non-numeric pollWindowMs as CONFIG_INVALID naming pollWindowMs', () => {
    const err = refusal(() => loadServerConfig({}, { TETHER_POLL_WINDOW_MS: 'abc' }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('pollWindowMs');
    expect(refusal(() => loadServerConfig({ pollWindowMs: 'abc' }, {})).message).toContain('pollWindowMs');
  });

  it('names every bad field, including unknown ones from the config file', () => {
    const file = writeConfig(JSON.stringify({ logLevel: 'loud', loginRateLimit: { max: 0, windowMs: 1000 }, colour: 'blue' }));
    const err = refusal(() => loadServerConfig({ config: file }, {}));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('logLevel');
    expect(err.message).toContain('loginRateLimit.max');
    expect(err.message).toContain('colour');
  });
});
