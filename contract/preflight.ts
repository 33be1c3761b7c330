import { z } from 'zod';

/**
 * The network pre-flight's contract: profiles (what to check), check rows (what each
 * step saw), verdicts and the versioned report. Shared by the engine
 * (src/main/services/preflight), the CLI and the console's renderer, so no Node imports.
 */

// ── Profiles ──

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

// ── Check rows: probes never throw; every failure lands here as a typed `problem` ──

/** Each way a check can fail, by the step that failed. */
export const PROBLEM_KINDS = [
  'dns-failed',
  'dns-timeout',
  'proxy-unreachable',
  'proxy-timeout',
  'proxy-closed',
  'proxy-auth-required',
  'proxy-refused',
  'proxy-target-failed',
  'tcp-refused',
  'tcp-timeout',
  'tcp-unreachable',
  'tcp-failed',
  'tls-timeout',
  'tls-failed',
  'unexpected-issuer',
  'cert-expired',
  'cert-not-yet-valid',
  'name-mismatch',
  'http-timeout',
  'http-failed',
  'canceled',
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

export const CHECK_STEPS = ['dns', 'proxy', 'tcp', 'tls', 'http', 'run'] as const;
export type CheckStep = (typeof CHECK_STEPS)[number];

export const CheckProblemSchema = z.object({
  kind: z.enum(PROBLEM_KINDS),
  step: z.enum(CHECK_STEPS),
  /** Technical detail for the engineer (the IT manager's line comes from the verdict). */
  detail: z.string(),
  /** errno or TLS verification code, when there is one. */
  code: z.string().nullable(),
  /** The proxy's or server's HTTP status, when there is one. */
  status: z.number().int().nullable(),
});
export type CheckProblem = z.infer<typeof CheckProblemSchema>;

export const DnsFactsSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('mapped'), address: z.string(), port: z.number().int() }),
  z.object({ kind: z.literal('resolved'), addresses: z.array(z.string()), ms: z.number() }),
  z.object({ kind: z.literal('literal') }),
  /** Through a proxy the proxy resolves the name; the device's own DNS is not asked. */
  z.object({ kind: z.literal('via-proxy') }),
  z.object({ kind: z.literal('failed'), ms: z.number() }),
]);
export type DnsFacts = z.infer<typeof DnsFactsSchema>;

export const ProxyFactsSchema = z.object({
  /** Without credentials. */
  url: z.string(),
  /** Where the CONNECT asked to go (a mapped name is sent as its address). */
  connectTarget: z.string(),
  /** TCP connect to the proxy itself. */
  connectMs: z.number().nullable(),
  /** The proxy's answer to CONNECT. */
  status: z.number().int().nullable(),
  ms: z.number().nullable(),
});
export type ProxyFacts = z.infer<typeof ProxyFactsSchema>;

export const TcpFactsSchema = z.object({
  /** The address connected to; null through a proxy (the proxy connected). */
  address: z.string().nullable(),
  port: z.number().int(),
  ms: z.number(),
});

export const CertificateFactsSchema = z.object({
  subject: z.string(),
  issuer: z.string(),
  validFrom: z.string(),
  validTo: z.string(),
  fingerprint256: z.string(),
});
export type CertificateFacts = z.infer<typeof CertificateFactsSchema>;

export const TlsFactsSchema = z.object({
  ms: z.number(),
  protocol: z.string().nullable(),
  cipher: z.string().nullable(),
  /** As presented by the server, leaf first. */
  chain: z.array(CertificateFactsSchema),
  leafExpiresAt: z.string().nullable(),
  /** DNS and IP names the leaf covers. */
  leafNames: z.array(z.string()),
  hostnameMatches: z.boolean(),
  /** The chain leads to a trusted root (system roots plus the CAs given to the run). */
  trusted: z.boolean(),
  /** When not trusted: the issuer the chain ends at (common name, else the full name). */
  untrustedIssuer: z.string().nullable(),
});
export type TlsFacts = z.infer<typeof TlsFactsSchema>;

export const HttpFactsSchema = z.object({
  status: z.number().int(),
  server: z.string().nullable(),
  ms: z.number(),
});

export const CheckRowSchema = z.object({
  host: z.string(),
  port: z.number().int(),
  protocol: z.enum(PROBE_PROTOCOLS),
  need: z.enum(TARGET_NEEDS),
  fallbackPort: z.number().int().nullable(),
  startedAt: z.string(),
  ms: z.number(),
  dns: DnsFactsSchema.nullable(),
  proxy: ProxyFactsSchema.nullable(),
  tcp: TcpFactsSchema.nullable(),
  tls: TlsFactsSchema.nullable(),
  http: HttpFactsSchema.nullable(),
  problem: CheckProblemSchema.nullable(),
});
export type CheckRow = z.infer<typeof CheckRowSchema>;

// ── Verdicts ──

export const ROW_LEVELS = ['ok', 'warning', 'blocked', 'not-run'] as const;
export type RowLevel = (typeof ROW_LEVELS)[number];

export const RowVerdictSchema = z.object({
  level: z.enum(ROW_LEVELS),
  /** One line for the IT manager; null when there is nothing to say. */
  reason: z.string().nullable(),
});
export type RowVerdict = z.infer<typeof RowVerdictSchema>;

export const PRODUCT_STATUSES = ['ready', 'ready-with-warnings', 'blocked', 'incomplete'] as const;
export type ProductStatus = (typeof PRODUCT_STATUSES)[number];

export const PRODUCT_STATUS_LABELS: Record<ProductStatus, string> = {
  ready: 'ready',
  'ready-with-warnings': 'ready with warnings',
  blocked: 'blocked',
  incomplete: 'incomplete',
};

export const ProductVerdictSchema = z.object({
  status: z.enum(PRODUCT_STATUSES),
  headline: z.string(),
  /** Blocking reasons first, then warnings; each line once. */
  reasons: z.array(z.string()),
  counts: z.object({ ok: z.number().int(), warning: z.number().int(), blocked: z.number().int(), notRun: z.number().int() }),
});
export type ProductVerdict = z.infer<typeof ProductVerdictSchema>;

// ── Report ──

export const REPORT_FORMAT = 'tether.preflight-report';
export const REPORT_VERSION = 1;

export const ReportRowSchema = CheckRowSchema.extend({ verdict: RowVerdictSchema });
export type ReportRow = z.infer<typeof ReportRowSchema>;

export const PreflightReportSchema = z.object({
  format: z.literal(REPORT_FORMAT),
  version: z.literal(REPORT_VERSION),
  generator: z.object({ name: z.literal('tether-preflight'), version: z.string() }),
  profile: PreflightProfileSchema,
  settings: z.object({
    /** Without credentials. */
    proxy: z.string().nullable(),
    proxyCredentials: z.boolean(),
    /** `name[:port] → address[:port]`, one entry each. */
    hostMap: z.array(z.string()),
    timeoutMs: z.number().int(),
    concurrency: z.number().int(),
  }),
  startedAt: z.string(),
  finishedAt: z.string(),
  verdict: ProductVerdictSchema,
  rows: z.array(ReportRowSchema),
});
export type PreflightReport = z.infer<typeof PreflightReportSchema>;
