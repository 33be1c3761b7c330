import { join } from 'node:path';
import type { SafeStorage } from 'electron';
import { readFileIfExists, writeFileAtomic } from '#node-lib/files';
import { safeStoragePersistable } from '../security.ts';
import type { SecretVault } from '../services/vault.ts';

/**
 * The Electron vault: each secret encrypted with safeStorage (Keychain, DPAPI, libsecret
 * / kwallet), the ciphertexts kept in a file. Where Linux offers only the `basic_text`
 * backend (no keyring), nothing is persisted: secrets stay in memory and the user is told.
 */
export class SafeStorageVault implements SecretVault {
  readonly persistent: boolean;
  readonly warning: string | undefined;
  private readonly path: string;
  private readonly memory = new Map<string, string>();
  private stored: Record<string, string>;

  constructor(
    private readonly safeStorage: SafeStorage,
    dir: string,
  ) {
    const backend = process.platform === 'linux' ? safeStorage.getSelectedStorageBackend() : undefined;
    const verdict = safeStoragePersistable(safeStorage.isEncryptionAvailable(), backend);
    this.persistent = verdict.ok;
    this.warning = verdict.reason;
    this.path = join(dir, 'vault.safestorage.json');
    this.stored = this.persistent ? (JSON.parse(readFileIfExists(this.path) ?? '{}') as Record<string, string>) : {};
  }

  get(key: string): string | undefined {
    if (!this.persistent) return this.memory.get(key);
    const blob = this.stored[key];
    if (!blob) return undefined;
    try {
      return this.safeStorage.decryptString(Buffer.from(blob, 'base64'));
    } catch {
      return undefined;
    }
  }

  set(key: string, value: string): void {
    if (!this.persistent) {
      this.memory.set(key, value);
      return;
    }
    this.stored = { ...this.stored, [key]: this.safeStorage.encryptString(value).toString('base64') };
    writeFileAtomic(this.path, JSON.stringify(this.stored), 0o600);
  }

  delete(key: string): void {
    this.memory.delete(key);
    if (!(key in this.stored)) return;
    const { [key]: _gone, ...rest } = this.stored;
    this.stored = rest;
    writeFileAtomic(this.path, JSON.stringify(this.stored), 0o600);
  }
}
