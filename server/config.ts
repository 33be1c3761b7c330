import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { TetherError } from '#contract/errors';

/** File transfers: where chunks wait (encrypted), for how long, and how many move at once. */
export const TransferSettingsSchema = z
  .object({
    /** Encrypted chunks in transit; default `<dataDir>/transfers`. */
    spoolDir: z.string().min(1).optional(),
    /** A transfer not finished by then fails (TRANSFER_EXPIRED) and its chunks are purged. */
    ttlHours: z.number().positive().max(24 * 30).default(24),
    /** Running transfers per device and in all; more wait as `queued`. */
    maxPerDevice: z.number().int().min(1).max(100).default(2),
    maxOverall: z.number().int().min(1).max(10_000).default(20),
    /** Per-transfer cap on the bytes/s the server sends to a receiver; 0: no cap. */
    bandwidthBytesPerSec: z.number().int().min(0).default(0),
    /** How long a content request waits for a chunk still on its way before CHUNK_NOT_READY. */
    contentWaitMs: z.number().int().min(0).max(120_000).default(15_000),
    /**
     * When the receiver is already asking for the chunk the sender is uploading, pass it
     * straight through instead of spooling it (half the server's cryptography per byte).
     * Off: every chunk goes through the encrypted spool.
     */
    streamThrough: z.boolean().default(true),
    /** A chunk passed straight through and not confirmed by its receiver by then is sent again. */
    streamAckWaitMs: z.number().int().min(100).max(600_000).default(30_000),
    /** How long the sender's next chunk waits for a receiver that has been asking to ask for it, before it is spooled. */
    streamNextAskMs: z.number().int().min(0).max(120_000).default(2_000),
    /** Expiry, automatic re-queue and purge run this often. */
    sweepMs: z.number().int().min(50).max(60_000).default(1000),
    /** Device commands re-queued after an interruption before the transfer fails. */
    maxAutoRetries: z.number().int().min(0).max(1000).default(20),
  })
  .strict();

/** Tunnels: the relay's two ports, ticket lifetime, how long the agent's leg may take. */
export const TunnelSettingsSchema = z
  .object({
    /** Agents dial this port (mTLS); 0: an ephemeral port (tests). */
    agentPort: z.number().int().min(0).max(65535).default(17001),
    /** Consoles dial this port with a one-time ticket; 0: an ephemeral port (tests). */
    consolePort: z.number().int().min(0).max(65535).default(17002),
    /** A console-leg ticket is good for this long, once. */
    ticketTtlMs: z.number().int().min(100).max(300_000).default(10_000),
    /** An opened tunnel whose agent leg has not arrived by then closes (SETUP_TIMEOUT). */
    setupTimeoutMs: z.number().int().min(100).max(600_000).default(15_000),
    /**
     * false: the relay ports stay closed and clients are told `unreachablePort` instead, so
     * every leg takes the WebSocket fallback on the API port (sites that block 17001/17002).
     */
    direct: z.boolean().default(true),
    /** The port advertised while `direct` is false: one where nothing listens. */
    unreachablePort: z.number().int().min(1).max(65535).default(17002),
  })
  .strict();

/** Everything a server node can be told. Defaults suit a single development node. */
export const ServerConfigSchema = z
  .object({
    dataDir: z.string().min(1).default('.tether/server'),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8443),
    /** Extra names (DNS or IP) the server certificate must cover. */
    hostnames: z.array(z.string().min(1).max(253)).default([]),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Longest time a poll is held open before it is answered empty. */
    pollWindowMs: z.number().int().min(100).max(120_000).default(25_000),
    /** A device is `missing` after this many poll windows without contact, plus grace. */
    missedPollsBeforeMissing: z.number().int().min(1).max(100).default(3),
    statusGraceMs: z.number().int().min(0).max(600_000).default(10_000),
    statusSweepMs: z.number().int().min(50).max(60_000).default(2_000),
    accessTokenTtlSeconds: z.number().int().min(5).max(24 * 3600).default(900),
    refreshTokenTtlSeconds: z.number().int().min(60).max(90 * 24 * 3600).default(14 * 24 * 3600),
    maxFailedLogins: z.number().int().min(1).max(100).default(5),
    lockoutMinutes: z.number().min(0.01).max(24 * 60).default(15),
    loginRateLimit: z
      .object({ max: z.number().int().min(1), windowMs: z.number().int().min(100) })
      .default({ max: 30, windowMs: 60_000 }),
    enrollRateLimit: z
      .object({ max: z.number().int().min(1), windowMs: z.number().int().min(100) })
      .default({ max: 600, windowMs: 60_000 }),
    commandTtlSeconds: z.number().int().min(5).max(7 * 24 * 3600).default(3600),
    enrollmentCodeTtlHours: z.number().min(0.01).max(24 * 365).default(7 * 24),
    /** Points kept per data item; older ones are pruned. */
    historyPerDataItem: z.number().int().min(10).max(1_000_000).default(1000),
    bodyLimitBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    /** How long the device-side operator has to answer a consent request. */
    consentTimeoutSeconds: z.number().int().min(5).max(3600).default(120),
    /** Policy for scopes no customer or device policy names. */
    defaultConsentPolicy: z.enum(['allow', 'ask', 'deny']).default('ask'),
    sessionSweepMs: z.number().int().min(50).max(60_000).default(1000),
    /** Output lines kept per command; beyond them a note says how many were dropped. */
    commandOutputLimit: z.number().int().min(10).max(1_000_000).default(10_000),
    transfers: TransferSettingsSchema.prefault({}),
    tunnels: TunnelSettingsSchema.prefault({}),
  })
  .strict();

export type ServerConfig = z.output<typeof ServerConfigSchema>;
export type ServerConfigInput = z.input<typeof ServerConfigSchema>;

/** Validates a config object; a bad one is a CONFIG_INVALID error naming every bad field. */
export function parseServerConfig(input: unknown): ServerConfig {
  const parsed = ServerConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new TetherError('CONFIG_INVALID', `invalid server configuration — ${problems.join('; ')}`);
  }
  const dataDir = resolve(parsed.data.dataDir);
  return { ...parsed.data, dataDir, transfers: { ...parsed.data.transfers, spoolDir: resolve(parsed.data.transfers.spoolDir ?? join(dataDir, 'transfers')) } };
}

const ENV_KEYS: Record<string, keyof ServerConfig> = {
  TETHER_DATA_DIR: 'dataDir',
  TETHER_HOST: 'host',
  TETHER_PORT: 'port',
  TETHER_HOSTNAMES: 'hostnames',
  TETHER_LOG_LEVEL: 'logLevel',
  TETHER_POLL_WINDOW_MS: 'pollWindowMs',
};

const NUMERIC = new Set<keyof ServerConfig>(['port', 'pollWindowMs']);

function coerce(key: keyof ServerConfig, raw: string): unknown {
  if (key === 'hostnames') return raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (NUMERIC.has(key)) {
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;
  }
  return raw;
}

/**
 * Layers configuration: defaults ← config file (`--config` or TETHER_CONFIG, JSON) ←
 * TETHER_* environment ← command-line flags.
 */
export function loadServerConfig(
  flags: Partial<Record<keyof ServerConfig | 'config', string | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): ServerConfig {
  let merged: Record<string, unknown> = {};
  const file = flags.config ?? env.TETHER_CONFIG;
  if (file) {
    try {
      merged = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new TetherError('CONFIG_INVALID', `cannot read config file ${file}: ${(err as Error).message}`);
    }
    if (typeof merged !== 'object' || merged === null || Array.isArray(merged)) {
      throw new TetherError('CONFIG_INVALID', `config file ${file} must hold a JSON object`);
    }
  }
  for (const [envKey, key] of Object.entries(ENV_KEYS)) {
    const raw = env[envKey];
    if (raw !== undefined && raw !== '') merged[key] = coerce(key, raw);
  }
  for (const [key, raw] of Object.entries(flags)) {
    if (key === 'config' || raw === undefined) continue;
    merged[key] = coerce(key as keyof ServerConfig, raw);
  }
  return parseServerConfig(merged);
}
