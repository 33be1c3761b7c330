import { z } from 'zod';
import { CheckProblemSchema } from './preflight.ts';

/**
 * How the console (and, in the same shape, the agent) reaches the outside: directly, the
 * system's proxy (Electron's resolution; the environment's HTTPS_PROXY / NO_PROXY in
 * browser mode), one manual HTTP(S) proxy, or a PAC script. The manual proxy's password
 * is never here: it lives in the vault.
 */
export const PROXY_MODES = ['none', 'system', 'manual', 'pac'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];

/** `http(s)://host:port` and nothing else: credentials go in their own fields. */
export const ProxyUrlSchema = z
  .url({ protocol: /^https?$/, message: 'the proxy URL must look like http://host:port' })
  .refine((value) => {
    const url = new URL(value);
    return url.port !== '' && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
  }, 'write the proxy as http://host:port (with its port; no path, no credentials in the URL)');

/** A proxy's `host:port`, as a PAC script or the system names it (IPv6 in brackets). */
export const ProxyHostPortSchema = z
  .string()
  .trim()
  .regex(/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/, 'write the proxy as host:port, as the PAC script or the system names it (e.g. proxy.hospital.example:3128)');

/**
 * A user name for one proxy that a PAC script or the system may choose, used when that
 * proxy is chosen (its password is in the vault, keyed by `proxy`). A manual proxy has its
 * own `username` instead.
 */
export const ProxySignInSchema = z.object({ proxy: ProxyHostPortSchema, username: z.string().min(1).max(256) }).strict();
export type ProxySignIn = z.infer<typeof ProxySignInSchema>;

const SignInsSchema = z
  .array(ProxySignInSchema)
  .max(16)
  .refine((list) => new Set(list.map((s) => s.proxy.toLowerCase())).size === list.length, 'each proxy has one sign-in')
  .optional();

export const ProxySettingsSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }).strict(),
  z.object({ mode: z.literal('system'), signIns: SignInsSchema }).strict(),
  z
    .object({
      mode: z.literal('manual'),
      url: ProxyUrlSchema,
      username: z.string().min(1).max(256).optional(),
    })
    .strict(),
  z
    .object({
      mode: z.literal('pac'),
      pacUrl: z.url({ protocol: /^(https?|file)$/, message: 'the PAC URL must start with http://, https:// or file://' }),
      signIns: SignInsSchema,
    })
    .strict(),
]);
export type ProxySettings = z.infer<typeof ProxySettingsSchema>;

export const DEFAULT_PROXY_SETTINGS: ProxySettings = { mode: 'none' };

/** What `proxy.get` answers: the settings, whether a password is in the vault, and what "system" means here. */
export const ProxyStateSchema = z.object({
  settings: ProxySettingsSchema,
  hasPassword: z.boolean(),
  /** The `signIns` proxies whose password is in the vault. */
  signInPasswords: z.array(z.string()),
  /** Electron asks the OS (Chromium's resolver); browser mode reads HTTPS_PROXY / NO_PROXY. */
  systemSource: z.enum(['electron', 'environment']),
});
export type ProxyState = z.infer<typeof ProxyStateSchema>;

/** The hop a proxy test stopped at: the PAC script, the proxy, or the server behind it. */
export const PROXY_HOPS = ['pac', 'proxy', 'target'] as const;

/** What `proxy.test` found: the route chosen for the URL and whether a connection through it worked. */
export const ProxyTestResultSchema = z.object({
  /** `host:port` tested. */
  target: z.string(),
  mode: z.enum(PROXY_MODES),
  /** `DIRECT`, or the proxy's URL without credentials; null when no route was found. */
  route: z.string().nullable(),
  ok: z.boolean(),
  failedHop: z.enum(PROXY_HOPS).nullable(),
  /** One line for the user. */
  message: z.string(),
  problem: CheckProblemSchema.nullable(),
});
export type ProxyTestResult = z.infer<typeof ProxyTestResultSchema>;
