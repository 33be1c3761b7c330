import { randomUUID } from 'node:crypto';
import { TetherError } from '#contract/errors';
import type { Profile, SaveProfileInput } from '#contract/ipc';
import type { SettingsStore } from './settings.ts';
import type { SecretVault } from './vault.ts';

export const SIMULATOR_PROFILE_ID = 'offline-simulator';

/** A hosted region the console knows out of the box (configurable at build or by env). */
export interface HostedRegion {
  id: string;
  name: string;
  url: string;
  caPem: string | null;
}

/** Tether's hosted regions. Override with TETHER_HOSTED_PROFILES (JSON array) for other deployments. */
export const DEFAULT_HOSTED_REGIONS: readonly HostedRegion[] = [
  { id: 'hosted-americas', name: 'Tether Americas', url: 'https://us.tether.example', caPem: null },
  { id: 'hosted-europe', name: 'Tether Europe', url: 'https://eu.tether.example', caPem: null },
  { id: 'hosted-apac', name: 'Tether Asia-Pacific', url: 'https://apac.tether.example', caPem: null },
];

export function hostedRegionsFromEnv(raw: string | undefined): readonly HostedRegion[] {
  if (!raw) return DEFAULT_HOSTED_REGIONS;
  try {
    const parsed = JSON.parse(raw) as HostedRegion[];
    if (Array.isArray(parsed) && parsed.every((r) => typeof r.id === 'string' && typeof r.name === 'string' && typeof r.url === 'string')) {
      return parsed.map((r) => ({ ...r, caPem: r.caPem ?? null }));
    }
  } catch {
    // fall through to the defaults
  }
  return DEFAULT_HOSTED_REGIONS;
}

const proxySecretKey = (profileId: string) => `proxy-password:${profileId}`;

/** Sign-in targets: hosted regions, custom servers (saved in settings) and the simulator. */
export class ProfileService {
  constructor(
    private readonly settings: SettingsStore,
    private readonly vault: SecretVault,
    private readonly hosted: readonly HostedRegion[],
  ) {}

  list(): Profile[] {
    const builtIn: Profile[] = [
      { id: SIMULATOR_PROFILE_ID, name: 'Offline simulator', kind: 'simulator', url: '', caPem: null, proxy: null, builtIn: true },
      ...this.hosted.map((r) => ({ id: r.id, name: r.name, kind: 'hosted' as const, url: r.url, caPem: r.caPem, proxy: null, builtIn: true })),
    ];
    const custom: Profile[] = this.settings.get().profiles.map((p) => ({
      id: p.id,
      name: p.name,
      kind: 'custom',
      url: p.url,
      caPem: p.caPem,
      proxy: p.proxy ? { url: p.proxy.url, ...(p.proxy.username ? { username: p.proxy.username } : {}), hasPassword: this.vault.get(proxySecretKey(p.id)) !== undefined } : null,
      builtIn: false,
    }));
    return [...builtIn, ...custom];
  }

  get(id: string): Profile {
    const profile = this.list().find((p) => p.id === id);
    if (!profile) throw new TetherError('NOT_FOUND', `no server profile ${id}`);
    return profile;
  }

  /** The proxy of a profile with its password from the vault, ready to connect with. */
  proxyFor(profile: Profile): { url: string; username?: string; password?: string } | undefined {
    if (!profile.proxy) return undefined;
    const password = this.vault.get(proxySecretKey(profile.id));
    return { url: profile.proxy.url, ...(profile.proxy.username ? { username: profile.proxy.username } : {}), ...(password ? { password } : {}) };
  }

  save(input: SaveProfileInput): Profile {
    if (input.id && this.list().some((p) => p.id === input.id && p.builtIn)) {
      throw new TetherError('FORBIDDEN', 'built-in profiles cannot be changed');
    }
    const id = input.id ?? `custom-${randomUUID()}`;
    this.settings.update((s) => ({
      ...s,
      profiles: [
        ...s.profiles.filter((p) => p.id !== id),
        { id, name: input.name, url: input.url.replace(/\/+$/, ''), caPem: input.caPem, proxy: input.proxy ? { url: input.proxy.url, ...(input.proxy.username ? { username: input.proxy.username } : {}) } : null },
      ],
    }));
    if (input.proxy?.password) this.vault.set(proxySecretKey(id), input.proxy.password);
    else if (!input.proxy) this.vault.delete(proxySecretKey(id));
    return this.get(id);
  }

  remove(id: string): void {
    const profile = this.get(id);
    if (profile.builtIn) throw new TetherError('FORBIDDEN', 'built-in profiles cannot be removed');
    this.settings.update((s) => ({ ...s, profiles: s.profiles.filter((p) => p.id !== id), lastUsedProfileId: s.lastUsedProfileId === id ? null : s.lastUsedProfileId }));
    this.vault.delete(proxySecretKey(id));
  }
}
