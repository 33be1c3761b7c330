import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '#node-lib/files';
import { PreflightProfileSchema } from '#contract/preflight';
import { DEFAULT_PROXY_SETTINGS, ProxySettingsSchema } from '#contract/proxy';

const StoredProfileSchema = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  caPem: z.string().nullable(),
  proxy: z.object({ url: z.string(), username: z.string().optional() }).nullable(),
});
export type StoredProfile = z.infer<typeof StoredProfileSchema>;

const SettingsSchema = z.object({
  version: z.literal(1).default(1),
  profiles: z.array(StoredProfileSchema).default([]),
  lastUsedProfileId: z.string().nullable().default(null),
  lastUsername: z.record(z.string(), z.string()).default({}),
  simulatorDevices: z.number().int().min(1).max(20_000).default(60),
  /** The user's own pre-flight profiles (built-in and server-derived ones are not stored). */
  preflightProfiles: z.array(PreflightProfileSchema).default([]),
  /** The console-wide proxy; a server profile's own proxy overrides it. */
  proxy: ProxySettingsSchema.default(DEFAULT_PROXY_SETTINGS),
});
export type ConsoleSettings = z.output<typeof SettingsSchema>;

/**
 * The console's settings file (no secrets in it — those go to the vault). A damaged file
 * is set aside as `settings.json.bad` and defaults are used, so a bad edit never stops
 * the console from starting.
 */
export class SettingsStore {
  private readonly path: string;
  private current: ConsoleSettings;

  constructor(dir: string) {
    this.path = join(dir, 'settings.json');
    this.current = this.load();
  }

  get(): ConsoleSettings {
    return this.current;
  }

  update(change: (settings: ConsoleSettings) => ConsoleSettings): ConsoleSettings {
    this.current = SettingsSchema.parse(change(this.current));
    writeFileAtomic(this.path, `${JSON.stringify(this.current, null, 2)}\n`, 0o600);
    return this.current;
  }

  private load(): ConsoleSettings {
    const text = readFileIfExists(this.path);
    if (!text) return SettingsSchema.parse({});
    try {
      return SettingsSchema.parse(JSON.parse(text));
    } catch {
      writeFileAtomic(`${this.path}.bad`, text, 0o600);
      return SettingsSchema.parse({});
    }
  }
}
