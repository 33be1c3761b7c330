import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '#node-lib/files';

/**
 * Where the console keeps secrets (refresh tokens, proxy passwords) — and the only
 * place. Electron's implementation uses the OS keyring through safeStorage
 * (src/main/electron/vault.ts); browser mode uses the encrypted file below.
 */
export interface SecretVault {
  /** False when secrets live only in memory (no safe store on this system). */
  readonly persistent: boolean;
  /** Why secrets are not persisted, for the user. */
  readonly warning: string | undefined;
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  delete(key: string): void;
}

/** Secrets for this run only. */
export class MemoryVault implements SecretVault {
  readonly persistent = false;
  private readonly values = new Map<string, string>();
  constructor(readonly warning: string | undefined = undefined) {}
  get(key: string) {
    return this.values.get(key);
  }
  set(key: string, value: string) {
    this.values.set(key, value);
  }
  delete(key: string) {
    this.values.delete(key);
  }
}

/**
 * Browser mode's vault: AES-256-GCM over a JSON map, key in its own owner-only file
 * beside it. It keeps secrets out of settings files, backups and casual reading; it is
 * no defence against code running as the same OS user (Electron's keyring-backed vault
 * is the stronger one).
 */
export class EncryptedFileVault implements SecretVault {
  readonly persistent = true;
  readonly warning = undefined;
  private readonly key: Buffer;
  private readonly path: string;
  private values: Record<string, string>;

  constructor(dir: string) {
    const keyPath = join(dir, 'vault.key');
    this.path = join(dir, 'vault.bin');
    const existingKey = readFileIfExists(keyPath);
    if (existingKey) {
      this.key = Buffer.from(existingKey.trim(), 'base64');
    } else {
      this.key = randomBytes(32);
      writeFileAtomic(keyPath, this.key.toString('base64'), 0o600);
    }
    this.values = this.load();
  }

  get(key: string) {
    return this.values[key];
  }

  set(key: string, value: string) {
    this.values = { ...this.values, [key]: value };
    this.save();
  }

  delete(key: string) {
    if (!(key in this.values)) return;
    const { [key]: _gone, ...rest } = this.values;
    this.values = rest;
    this.save();
  }

  private load(): Record<string, string> {
    const text = readFileIfExists(this.path);
    if (!text) return {};
    try {
      const blob = Buffer.from(text, 'base64');
      const iv = blob.subarray(0, 12);
      const tag = blob.subarray(12, 28);
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as Record<string, string>;
    } catch {
      // tampered with or from another key: start empty rather than trust it
      return {};
    }
  }

  private save(): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(this.values), 'utf8'), cipher.final()]);
    writeFileAtomic(this.path, Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64'), 0o600);
  }
}
