import type { z } from 'zod';
import { TetherError } from '#contract/errors';
import {
  DEFAULT_HTTP_PORTS,
  DEFAULT_TLS_PORTS,
  PROFILE_FORMAT,
  PROFILE_VERSION,
  type PreflightProfile,
  PreflightProfileSchema,
  type PreflightTarget,
  type PreflightTargetSchema,
} from '#contract/preflight';

/**
 * Pre-flight profiles: the built-in ones copy the seed's two firewall tables; custom ones
 * are JSON files (import, export); one more is derived from the Tether server the console
 * talks to. Their schemas are in contract/preflight.ts. No Node imports.
 */

/** Applies the per-port defaults to a profile's target. */
export function resolveTarget(target: z.infer<typeof PreflightTargetSchema>): PreflightTarget {
  const protocol = target.protocol ?? (DEFAULT_TLS_PORTS.includes(target.port) ? 'tls' : DEFAULT_HTTP_PORTS.includes(target.port) ? 'http' : 'tcp');
  const need = target.need ?? (target.port === 17001 || target.port === 17002 ? 'preferred' : DEFAULT_HTTP_PORTS.includes(target.port) ? 'optional' : 'required');
  return {
    host: target.host,
    port: target.port,
    protocol,
    need,
    fallbackPort: need === 'preferred' ? (target.fallbackPort ?? 443) : null,
  };
}

export function resolveTargets(profile: PreflightProfile): PreflightTarget[] {
  return profile.targets.map(resolveTarget);
}

function seedTable(rows: ReadonlyArray<readonly [string, readonly number[]]>): PreflightProfile['targets'] {
  return rows.flatMap(([host, ports]) => ports.map((port) => ({ host, port })));
}

const AXEDA_PORTS = [443, 17001, 17002] as const;
const AXEDA_HOSTS = ['medrad.axeda.com', 'ghsj1.axeda.com', 'ghsom1.axeda.com', 'Gas-aus.axeda.com', 'ghjap1.axeda.com', 'ghuk1.axeda.com'] as const;

/** The seed's "Radimetrics™ Enterprise Platform" table, host names spelled as there. */
export const RADIMETRICS_PROFILE: PreflightProfile = {
  format: PROFILE_FORMAT,
  version: PROFILE_VERSION,
  id: 'radimetrics',
  name: 'Radimetrics Enterprise Platform',
  description: 'Outbound hosts and ports from the VirtualCARE Remote Support IT document.',
  targets: seedTable([
    ['subversion.assembla.com', [443, 80]],
    ['supportserver.radimetrics.com', [443, 80, 8080]],
    ['uksupportserver.radimetrics.com', [443, 80, 8080]],
    ...AXEDA_HOSTS.map((host) => [host, AXEDA_PORTS] as const),
  ]),
};

/** The seed's "MEDRAD® Injection System Fluid Delivery Devices" table. */
export const MEDRAD_PROFILE: PreflightProfile = {
  format: PROFILE_FORMAT,
  version: PROFILE_VERSION,
  id: 'medrad',
  name: 'MEDRAD Injection System Fluid Delivery Devices',
  description: 'Outbound hosts and ports from the VirtualCARE Remote Support IT document.',
  targets: seedTable(AXEDA_HOSTS.map((host) => [host, AXEDA_PORTS] as const)),
};

export const BUILT_IN_PROFILES: readonly PreflightProfile[] = [RADIMETRICS_PROFILE, MEDRAD_PROFILE];

export function builtInProfile(id: string): PreflightProfile | undefined {
  return BUILT_IN_PROFILES.find((p) => p.id === id);
}

export function isBuiltInProfile(profile: PreflightProfile): boolean {
  return BUILT_IN_PROFILES.some((p) => p.id === profile.id);
}

/** Checks an imported or edited profile; the message names every problem with its place. */
export function parsePreflightProfile(input: unknown): PreflightProfile {
  const parsed = PreflightProfileSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(profile)'}: ${issue.message}`);
  throw new TetherError('VALIDATION_FAILED', `invalid pre-flight profile — ${problems.join('; ')}`, { problems });
}

/** Reads a profile from exported JSON text. */
export function importPreflightProfile(json: string): PreflightProfile {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new TetherError('MALFORMED_JSON', `the profile is not valid JSON: ${(err as Error).message}`);
  }
  return parsePreflightProfile(value);
}

/** The JSON a profile is exported as; `importPreflightProfile` reads it back unchanged. */
export function exportPreflightProfile(profile: PreflightProfile): string {
  return `${JSON.stringify(parsePreflightProfile(profile), null, 2)}\n`;
}

/**
 * The pre-flight for the Tether server the console is connected to: its API port (TLS,
 * required) and its relay ports (TLS, falling back to the API port). Tether speaks TLS on
 * every port it opens.
 */
export function profileForServer(serverUrl: string, relayPorts: readonly number[] = []): PreflightProfile {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new TetherError('VALIDATION_FAILED', `not a server URL: "${serverUrl}"`);
  }
  if (url.protocol !== 'https:') throw new TetherError('VALIDATION_FAILED', `the server URL must start with https:// (got ${url.protocol}//)`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const apiPort = url.port ? Number(url.port) : 443;
  const relays = [...new Set(relayPorts)].filter((port) => port !== apiPort);
  return parsePreflightProfile({
    format: PROFILE_FORMAT,
    version: PROFILE_VERSION,
    id: 'tether-server',
    name: `Tether server ${url.host}`,
    description: 'Derived from the server the console is connected to.',
    targets: [
      { host, port: apiPort, protocol: 'tls', need: 'required' },
      ...relays.map((port) => ({ host, port, protocol: 'tls' as const, need: 'preferred' as const, fallbackPort: apiPort })),
    ],
  });
}
