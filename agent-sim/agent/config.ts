import { z } from 'zod';
import { TetherError } from '#contract/errors';
import { ProxySettingsSchema as SharedProxySettingsSchema, ProxySignInSchema } from '#contract/proxy';

export const AGENT_VERSION = '1.0.0';

/**
 * One fixed outbound proxy: an HTTP(S) proxy URL and optional credentials. Only CONNECT is
 * used, so the TLS session stays end to end.
 */
export const ProxySettingsSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  username: z.string().max(256).optional(),
  password: z.string().max(1024).optional(),
  /** Hosts reached directly (comma list as in NO_PROXY; `*` for all). */
  noProxy: z.string().max(4096).optional(),
});
export type ProxySettings = z.infer<typeof ProxySettingsSchema>;

/**
 * The console's sign-in for a proxy chosen by PAC or the environment; on the device the
 * configuration file is where secrets live, so the password may sit beside the user name.
 */
const AgentSignInsSchema = z
  .array(ProxySignInSchema.extend({ password: z.string().min(1).max(1024).optional() }).strict())
  .max(16)
  .optional();

/**
 * A proxy chosen per connection, in the console's shape: by a PAC script (evaluated as the
 * console does, node-lib/proxy-resolver.ts), or by the device's environment
 * (`system`: HTTPS_PROXY / NO_PROXY, read when the agent starts).
 */
export const ChosenProxySchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('pac'), pacUrl: z.url({ protocol: /^(https?|file)$/, message: 'the PAC URL must start with http://, https:// or file://' }), signIns: AgentSignInsSchema }).strict(),
  z.object({ mode: z.literal('system'), signIns: AgentSignInsSchema }).strict(),
]);
export type ChosenProxy = z.infer<typeof ChosenProxySchema>;

/** The agent's proxy setting: one fixed proxy, or one chosen per connection. */
export type AgentProxy = ProxySettings | ChosenProxy;

export const AgentConfigSchema = z
  .object({
    /** Base URL of the server, e.g. https://tether.example:443. */
    serverUrl: z.url({ protocol: /^https$/ }),
    /** The server CA certificate (PEM) the agent pins: no other issuer is trusted. */
    serverCaPem: z.string().min(100),
    /** Where credentials, the command journal and the local audit file live. */
    dataDir: z.string().min(1),
    /** A fixed proxy, or one chosen per connection; also accepted in the console's shape ({ mode, ... }), see `parseAgentConfig`. */
    proxy: z.union([ProxySettingsSchema, ChosenProxySchema]).optional(),
    /** Host name → address overrides (tests and pre-flight map real names to loopback). */
    hostMap: z.record(z.string(), z.string()).default({}),
    backoff: z.object({ baseMs: z.number().int().min(1), maxMs: z.number().int().min(1) }).default({ baseMs: 1000, maxMs: 60_000 }),
    /** Telemetry reports kept while the server is unreachable; the oldest are dropped beyond it. */
    outboundQueueLimit: z.number().int().min(10).max(1_000_000).default(10_000),
    /** Every data item is reported at least this often even if unchanged. */
    fullReportIntervalMs: z.number().int().min(1000).default(300_000),
    /** Routine data changes are sent at most this often; alarms and command results at once. */
    dataFlushMs: z.number().int().min(10).default(2000),
    requestTimeoutMs: z.number().int().min(100).default(15_000),
  })
  .strict();
export type AgentConfig = z.output<typeof AgentConfigSchema>;
export type AgentConfigInput = z.input<typeof AgentConfigSchema>;

export function parseAgentConfig(input: unknown): AgentConfig {
  const parsed = AgentConfigSchema.safeParse(withAgentProxy(input));
  if (!parsed.success) {
    throw new TetherError('CONFIG_INVALID', `invalid agent configuration — ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/**
 * The console's proxy settings (contract/proxy.ts, `{ mode, ... }`) as the agent applies
 * them: no proxy, one manual proxy, or — kept as they are — a PAC script or the
 * environment choosing per connection (sign-ins may carry their password here).
 */
function withAgentProxy(input: unknown): unknown {
  if (!isRecord(input) || !isRecord(input.proxy) || !('mode' in input.proxy)) return input;
  const { proxy: given, ...rest } = input;
  // pac and system are kept in their shape, checked by the agent's own schema (a sign-in may carry its password)
  if (given.mode === 'pac' || given.mode === 'system') return { ...rest, proxy: proxyOrRefusal(ChosenProxySchema.safeParse(given)) };
  const proxy = proxyOrRefusal(SharedProxySettingsSchema.safeParse(given));
  return { ...rest, ...(proxy.mode === 'manual' ? { proxy: { url: proxy.url, ...(proxy.username ? { username: proxy.username } : {}) } } : {}) };
}

function proxyOrRefusal<T>(parsed: z.ZodSafeParseResult<T>): T {
  if (parsed.success) return parsed.data;
  throw new TetherError('CONFIG_INVALID', `invalid agent configuration — ${parsed.error.issues.map((i) => `${['proxy', ...i.path].join('.')}: ${i.message}`).join('; ')}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Proxy from the environment (HTTPS_PROXY / https_proxy, NO_PROXY), as most tools read it. */
export function proxyFromEnv(env: NodeJS.ProcessEnv): ProxySettings | undefined {
  const url = env.HTTPS_PROXY || env.https_proxy;
  if (!url) return undefined;
  const noProxy = env.NO_PROXY || env.no_proxy;
  return { url, ...(noProxy ? { noProxy } : {}) };
}

/** Whether `host` is exempt from the proxy by a NO_PROXY-style list. */
export function bypassesProxy(host: string, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const name = host.toLowerCase();
  return noProxy
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
    .some((entry) => entry === '*' || name === entry.replace(/^\./, '') || name.endsWith(entry.startsWith('.') ? entry : `.${entry}`));
}
