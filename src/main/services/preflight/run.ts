import { TetherError } from '#contract/errors';
import type { CheckRow } from '#contract/preflight';
import type { HostMap } from './host-map.ts';
import { probeTarget } from './probe.ts';
import type { PreflightProfile, PreflightTarget } from '#contract/preflight';
import { parsePreflightProfile, resolveTargets } from './profiles.ts';
import { type PreflightProxy, proxyEndpoint } from './proxy-tunnel.ts';
import { TrustStore } from './trust.ts';

export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_CHECK_TIMEOUT_MS = 5000;

/** A row starting or finished, in the order checks run; the console shows them live. */
export type PreflightProgress =
  | { kind: 'check-started'; index: number; total: number; target: PreflightTarget }
  | { kind: 'check-finished'; index: number; total: number; row: CheckRow };

export interface PreflightRunOptions {
  profile: PreflightProfile;
  hostMap?: HostMap | undefined;
  proxy?: PreflightProxy | null | undefined;
  /** CAs trusted besides the system roots (PEM, bundles allowed), e.g. a Tether server's CA. */
  trustedCaPems?: readonly string[] | undefined;
  /** Per check; default 5 s. */
  timeoutMs?: number | undefined;
  /** Checks at once; default 8. */
  concurrency?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((event: PreflightProgress) => void) | undefined;
}

/** The settings a run used, as the report records them (no secrets). */
export interface PreflightRunSettings {
  proxyUrl: string | null;
  proxyCredentials: boolean;
  hostMap: HostMap;
  timeoutMs: number;
  concurrency: number;
}

export interface PreflightRun {
  profile: PreflightProfile;
  settings: PreflightRunSettings;
  startedAt: string;
  finishedAt: string;
  /** In the profile's order, whatever order they finished in. */
  rows: CheckRow[];
  canceled: boolean;
}

function boundedInteger(value: number | undefined, fallback: number, min: number, max: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) throw new TetherError('VALIDATION_FAILED', `${what} must be a whole number from ${min} to ${max} (got ${value})`);
  return value;
}

/**
 * Runs every check of a profile, at most `concurrency` at a time, each within its
 * timeout. Bad settings are refused before anything is contacted; after that nothing
 * throws: a canceled run resolves with the finished rows and the rest marked canceled.
 */
export async function runPreflight(options: PreflightRunOptions): Promise<PreflightRun> {
  const profile = parsePreflightProfile(options.profile);
  const timeoutMs = boundedInteger(options.timeoutMs, DEFAULT_CHECK_TIMEOUT_MS, 50, 120_000, 'the per-check timeout (ms)');
  const concurrency = boundedInteger(options.concurrency, DEFAULT_CONCURRENCY, 1, 64, 'the number of parallel checks');
  const proxy = options.proxy ? proxyEndpoint(options.proxy) : null;
  const trust = new TrustStore(options.trustedCaPems ?? []);
  const hostMap = options.hostMap ?? [];
  const targets = resolveTargets(profile);
  const rows: CheckRow[] = new Array<CheckRow>(targets.length);
  const startedAt = new Date().toISOString();
  const emit = (event: PreflightProgress): void => options.onProgress?.(event);

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const index = next;
      next += 1;
      const target = targets[index] as PreflightTarget;
      emit({ kind: 'check-started', index, total: targets.length, target });
      const row = await probeTarget(target, { hostMap, proxy, trust, timeoutMs, signal: options.signal });
      rows[index] = row;
      emit({ kind: 'check-finished', index, total: targets.length, row });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));

  return {
    profile,
    settings: { proxyUrl: proxy?.displayUrl ?? null, proxyCredentials: Boolean(proxy?.authorization), hostMap, timeoutMs, concurrency },
    startedAt,
    finishedAt: new Date().toISOString(),
    rows,
    canceled: options.signal?.aborted ?? false,
  };
}
