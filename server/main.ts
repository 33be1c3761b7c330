#!/usr/bin/env node
/**
 * `npm run server -- [command] [flags]`: the hosted server and its admin tools.
 *
 *   serve (default)         run a server node
 *   audit verify            verify the audit hash chain; exit 1 when broken
 *   customer add|site add|device add|device code|user add   admin changes from the shell
 */
import { parseArgs } from 'node:util';
import { TetherError } from '#contract/errors';
import { loadServerConfig, type ServerConfig } from './config.ts';
import { buildServer } from './app.ts';
import { SYSTEM_ACTOR } from './users/users-service.ts';
import { CreateCustomerRequestSchema, CreateDeviceRequestSchema, CreateSiteRequestSchema } from '#contract/api/fleet';
import { CreateUserRequestSchema } from '#contract/api/auth';

const USAGE = `usage: npm run server -- [serve] [--config FILE] [--data-dir DIR] [--host H] [--port P]
                        [--hostnames a,b] [--poll-window-ms MS] [--log-level LEVEL]
       npm run server -- audit verify [--data-dir DIR]
       npm run server -- customer add --name N --region us|uk|au|jp|eu --country CC
       npm run server -- site add --customer ID --name N --city C --country CC --timezone TZ
       npm run server -- device add --site ID --model MODEL --serial SERIAL [--name N]
       npm run server -- device code --device ID
       npm run server -- user add --username U --display-name N --role admin|engineer|viewer
                                  --password P [--customers all|id,id]`;

const FLAGS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  hostnames: { type: 'string' },
  'poll-window-ms': { type: 'string' },
  'log-level': { type: 'string' },
  name: { type: 'string' },
  region: { type: 'string' },
  country: { type: 'string' },
  customer: { type: 'string' },
  city: { type: 'string' },
  timezone: { type: 'string' },
  site: { type: 'string' },
  model: { type: 'string' },
  serial: { type: 'string' },
  device: { type: 'string' },
  username: { type: 'string' },
  'display-name': { type: 'string' },
  role: { type: 'string' },
  password: { type: 'string' },
  customers: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = { [K in keyof typeof FLAGS]?: (typeof FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

function configFrom(flags: Flags): ServerConfig {
  return loadServerConfig({
    config: flags.config,
    dataDir: flags['data-dir'],
    host: flags.host,
    port: flags.port,
    hostnames: flags.hostnames,
    pollWindowMs: flags['poll-window-ms'],
    logLevel: flags['log-level'],
  } as Parameters<typeof loadServerConfig>[0]);
}

function required(flags: Flags, name: keyof Flags): string {
  const value = flags[name];
  if (typeof value !== 'string' || !value) throw new TetherError('CONFIG_INVALID', `--${name} is required`);
  return value;
}

function parseOrFail<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new TetherError('VALIDATION_FAILED', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

async function serve(config: ServerConfig): Promise<void> {
  const server = await buildServer(config);
  const url = await server.listen();
  if (server.bootstrapAdmin) {
    process.stdout.write(
      [
        '',
        '  First start: an administrator account was created.',
        `    username: ${server.bootstrapAdmin.username}`,
        `    password: ${server.bootstrapAdmin.password}`,
        '  This password is shown only now and stored nowhere in clear; sign in and change it.',
        '',
      ].join('\n') + '\n',
    );
  }
  server.ctx.log.info({ url, dataDir: config.dataDir, caCert: server.ctx.pki.caCertPath }, 'tether server listening');
  const stop = (signal: string) => {
    server.ctx.log.info({ signal }, 'shutting down');
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

async function admin(config: ServerConfig, words: string[], flags: Flags): Promise<number> {
  const server = await buildServer({ ...config, logLevel: 'warn' });
  try {
    const verb = words.join(' ');
    const { fleet, users } = server.services;
    switch (verb) {
      case 'audit verify': {
        const result = await server.ctx.audit.verify();
        process.stdout.write(`${JSON.stringify(result)}\n`);
        if (!result.ok) process.stderr.write(`audit chain broken at entry ${result.firstBadSeq}: ${result.reason}\n`);
        return result.ok ? 0 : 1;
      }
      case 'customer add': {
        const input = parseOrFail(CreateCustomerRequestSchema, { name: flags.name, region: flags.region, country: flags.country });
        process.stdout.write(`${JSON.stringify(await fleet.createCustomer(input, SYSTEM_ACTOR))}\n`);
        return 0;
      }
      case 'site add': {
        const input = parseOrFail(CreateSiteRequestSchema, { customerId: flags.customer, name: flags.name, city: flags.city, country: flags.country, timezone: flags.timezone });
        process.stdout.write(`${JSON.stringify(await fleet.createSite(input, SYSTEM_ACTOR))}\n`);
        return 0;
      }
      case 'device add': {
        const input = parseOrFail(CreateDeviceRequestSchema, { siteId: flags.site, modelId: flags.model, serial: flags.serial, ...(flags.name ? { name: flags.name } : {}) });
        process.stdout.write(`${JSON.stringify(await fleet.createDevice(input, SYSTEM_ACTOR))}\n`);
        return 0;
      }
      case 'device code': {
        process.stdout.write(`${JSON.stringify(await fleet.issueEnrollmentCode(required(flags, 'device'), SYSTEM_ACTOR))}\n`);
        return 0;
      }
      case 'user add': {
        const customers = flags.customers ?? 'all';
        const input = parseOrFail(CreateUserRequestSchema, {
          username: flags.username,
          displayName: flags['display-name'] ?? flags.username,
          role: flags.role,
          password: flags.password,
          customerIds: customers === 'all' ? 'all' : customers.split(',').filter(Boolean),
        });
        process.stdout.write(`${JSON.stringify(await users.create(input, SYSTEM_ACTOR))}\n`);
        return 0;
      }
      default:
        throw new TetherError('CONFIG_INVALID', `unknown command "${verb}"\n${USAGE}`);
    }
  } finally {
    await server.close();
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const flags = parsed.values as Flags;
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const words = parsed.positionals;
  try {
    const config = configFrom(flags);
    if (words.length === 0 || (words.length === 1 && words[0] === 'serve')) {
      await serve(config);
      return -1; // keep running
    }
    return await admin(config, words, flags);
  } catch (err) {
    if (err instanceof TetherError) {
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`fatal: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
