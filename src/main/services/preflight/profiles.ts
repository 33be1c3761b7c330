import { z } from 'zod';
import { TetherError } from '../../../shared/errors.ts';

/**
 * What a pre-flight checks: a product's host names and outbound ports. The built-in
 * profiles copy the seed's two firewall tables; custom ones are JSON files (import,
 * export); one more is derived from the Tether server the console talks to. This module
 * has no Node imports, so the console's renderer can share it later.
 */

/** After the TCP connect: a TLS handshake, an HTTP request, or nothing more. */
export const PROBE_PROTOCOLS = ['tls', 'http', 'tcp'] as const;
export type ProbeProtocol = (typeof PROBE_PROTOCOLS)[number];

/**
 * How much the product depends on a target: `required` blocks it when it fails;
 * `preferred` has a fallback (another port on the same host) and only warns while that
 * works; `optional` only ever warns.
 */
export const TARGET_NEEDS = ['required', 'preferred', 'optional'] as const;
export type TargetNeed = (typeof TARGET_NEEDS)[number];

/** The seed's TLS ports: the service on 443 and the session channels on 17001/17002. */
export const DEFAULT_TLS_PORTS: readonly number[] = [443, 17001, 17002];
export const DEFAULT_HTTP_PORTS: readonly number[] = [80, 8080];

// RFC 1123 labels; IP literals are accepted as written (a derived profile may name one)
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-f:.]+$/i;

/** A host name or an IP address, as a profile or a mapping names it. */
export function isHostOrAddress(value: string): boolean {
  return HOST_NAME.test(value) || IPV4.test(value) || (value.includes(':') && IPV6.test(value));
}

export const HostSchema = z.string().trim().min(1, 'a host name is required').refine(isHostOrAddress, { message: 'not a host name or IP address' });
export const PortSchema = z.number({ message: 'a port number is required' }).int('a port is a whole number').min(1, 'ports run from 1 to 65535').max(65535, 'ports run from 1 to 65535');

export const PreflightTargetSchema = z
  .object({
    host: HostSchema,
    port: PortSchema,
    /** Default: tls on 443/17001/17002, http on 80/8080, tcp elsewhere. */
    protocol: z.enum(PROBE_PROTOCOLS).optional(),
    /** Default: required on 443 and unlisted ports, preferred on 17001/17002, optional on 80/8080. */
    need: z.enum(TARGET_NEEDS).optional(),
    /** For a preferred target: the port on the same host the product falls back to (default 443). */
    fallbackPort: PortSchema.optional(),
  })
  .strict();
export type PreflightTargetInput = z.input<typeof PreflightTargetSchema>;

/** A target with every default applied: what a probe and the verdict work from. */
export interface PreflightTarget {
  host: string;
  port: number;
  protocol: ProbeProtocol;
  need: TargetNeed;
  fallbackPort: number | null;
}

export const PROFILE_FORMAT = 'tether.preflight-profile';
export const PROFILE_VERSION = 1;

export const PreflightProfileSchema = z
  .object({
    format: z.literal(PROFILE_FORMAT, { message: `"format" must be "${PROFILE_FORMAT}"` }),
    version: z.literal(PROFILE_VERSION, { message: `this console reads profile version ${PROFILE_VERSION}` }),
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'an id is lower-case letters, digits and dashes (at most 64)'),
    name: z.string().trim().min(1, 'give the profile a name').max(128),
    description: z.string().max(2000).optional(),
    targets: z.array(PreflightTargetSchema).min(1, 'a profile needs at least one host and port').max(500, 'at most 500 targets per profile'),
  })
  .strict()
  .superRefine((profile, ctx) => {
    const seen = new Set<string>();
    profile.targets.forEach((target, index) => {
      const key = `${target.host.toLowerCase()}:${target.port}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['targets', index], message: `${target.host}:${target.port} is listed twice` });
      seen.add(key);
      if (target.fallbackPort !== undefined && target.fallbackPort === target.port) {
        ctx.addIssue({ code: 'custom', path: ['targets', index, 'fallbackPort'], message: 'a target cannot fall back to its own port' });
      }
    });
  });
export type PreflightProfile = z.infer<typeof PreflightProfileSchema>;

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
