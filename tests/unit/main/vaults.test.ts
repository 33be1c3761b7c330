import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SafeStorage } from 'electron';
import { describe, expect, it } from 'vitest';
import { SafeStorageVault } from '../../../src/main/electron/vault.ts';
import { EncryptedFileVault, MemoryVault } from '../../../src/main/services/vault.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'tether-vault-'));

/**
 * Electron's safeStorage cannot run here, so it is stood in for by an object with the
 * same methods (a reversible transform marked as "encrypted"); the vault logic is real.
 */
function fakeSafeStorage(backend: string, available = true): SafeStorage {
  return {
    isEncryptionAvailable: () => available,
    getSelectedStorageBackend: () => backend,
    encryptString: (plain: string) => Buffer.from(`enc:${Buffer.from(plain).toString('base64')}`),
    decryptString: (blob: Buffer) => Buffer.from(blob.toString().replace(/^enc:/, ''), 'base64').toString(),
    isAsyncEncryptionAvailable: () => Promise.resolve(available),
    setUsePlainTextEncryption: () => undefined,
  } as unknown as SafeStorage;
}

describe('secret vaults', () => {
  it('safeStorage vault persists only ciphertext, owner-only, and reads it back in a new instance', () => {
    const home = dir();
    const vault = new SafeStorageVault(fakeSafeStorage('gnome_libsecret'), home);
    expect(vault.persistent).toBe(true);
    vault.set('refresh-token:x', 'rt_secret_value');
    const file = join(home, 'vault.safestorage.json');
    expect(readFileSync(file, 'utf8')).not.toContain('rt_secret_value');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(new SafeStorageVault(fakeSafeStorage('gnome_libsecret'), home).get('refresh-token:x')).toBe('rt_secret_value');
    vault.delete('refresh-token:x');
    expect(new SafeStorageVault(fakeSafeStorage('gnome_libsecret'), home).get('refresh-token:x')).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')('refuses to persist with the basic_text backend: memory only, with a warning', () => {
    const home = dir();
    const vault = new SafeStorageVault(fakeSafeStorage('basic_text'), home);
    expect(vault.persistent).toBe(false);
    expect(vault.warning).toMatch(/basic_text/);
    vault.set('k', 'v');
    expect(vault.get('k')).toBe('v');
    expect(() => statSync(join(home, 'vault.safestorage.json'))).toThrow();
    expect(new SafeStorageVault(fakeSafeStorage('basic_text'), home).get('k')).toBeUndefined();
  });

  it('encrypted file vault (browser mode) keeps no clear text and rejects a tampered file', () => {
    const home = dir();
    const vault = new EncryptedFileVault(home);
    vault.set('refresh-token:y', 'rt_another_secret');
    const blob = readFileSync(join(home, 'vault.bin'), 'utf8');
    expect(blob).not.toContain('rt_another_secret');
    expect(Buffer.from(blob, 'base64').toString('latin1')).not.toContain('rt_another_secret');
    expect(statSync(join(home, 'vault.key')).mode & 0o777).toBe(0o600);
    expect(new EncryptedFileVault(home).get('refresh-token:y')).toBe('rt_another_secret');

    const bytes = Buffer.from(blob, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    writeFileSync(join(home, 'vault.bin'), bytes.toString('base64'));
    expect(new EncryptedFileVault(home).get('refresh-token:y')).toBeUndefined();
  });

  it('memory vault says it does not persist', () => {
    const vault = new MemoryVault('no keyring');
    vault.set('a', 'b');
    expect(vault).toMatchObject({ persistent: false, warning: 'no keyring' });
    expect(vault.get('a')).toBe('b');
  });
});
