import { z } from 'zod';
import { PROBE_PROTOCOLS, TARGET_NEEDS } from './profiles.ts';

/**
 * One check's outcome as data: what each step saw (DNS, proxy, TCP, TLS, HTTP) and the
 * first thing that went wrong. Probes never throw; every failure lands here as a typed
 * `problem`, and the verdict and the reports read nothing else. No Node imports, so the
 * console's renderer can share these schemas later.
 */

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
