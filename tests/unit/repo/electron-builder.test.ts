import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const require = createRequire(import.meta.url);

describe('electron-builder.yml', () => {
  const config = parse(readFileSync(new URL('electron-builder.yml', root), 'utf8')) as Record<string, unknown> & {
    directories: { buildResources: string };
    linux: { target: string[]; icon: string };
    win: { target: string[]; icon: string };
    mac: { target: string[]; icon: string };
  };

  it("validates against electron-builder's own schema (app-builder-lib), without building", () => {
    const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
    const validate = ajv.compile(schema);
    const ok = validate(config);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('names the app and the targets for Linux, Windows and macOS', () => {
    expect(config.appId).toBe('org.tether.console');
    expect(config.productName).toBe('Tether');
    expect(config.directories.buildResources).toBe('build');
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
  });

  it('has its icons in build/', () => {
    for (const icon of [config.win.icon, config.mac.icon, `${config.linux.icon}/512x512.png`]) {
      expect(existsSync(new URL(icon, root)), icon).toBe(true);
    }
  });

  it('sets the Electron fuses that close run-as-node and inspector back doors', () => {
    expect(config.electronFuses).toMatchObject({ runAsNode: false, enableNodeCliInspectArguments: false, enableNodeOptionsEnvironmentVariable: false, onlyLoadAppFromAsar: true });
  });
});
