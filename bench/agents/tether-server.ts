import { buildServer } from '../../server/app.ts';
import { parseServerConfig } from '../../server/config.ts';
import type { Principal } from '../../server/access/principal.ts';
import type { AdminActor } from '../../server/users/users-service.ts';
import type { BurstCommand, DeviceSlot, ServerSetup } from './messages.ts';
import { benchNow } from './rpc.ts';
import { type ServerUnderTest, benchSerial } from './server-under-test.ts';

const BENCH_ACTOR: AdminActor = { actorType: 'system', actorId: null, actorName: 'bench', ip: null };

/** An administrator who sees every customer; commands are created as this user, as the console would. */
const BENCH_PRINCIPAL: Principal = {
  id: 'bench',
  username: 'bench',
  displayName: 'bench',
  role: 'admin',
  customers: 'all',
  familyId: 'bench',
  tokenExpiresAt: Number.MAX_SAFE_INTEGER,
};

/**
 * The real server (`buildServer`) with a fresh data dir, listening on loopback, with one
 * customer, one site and `setup.agents` devices, each with a one-time enrollment code.
 * Enrollment is rate-limited far above what the benchmark does, so the limit never shapes
 * the enrollment figure.
 */
export async function startTetherServer(setup: ServerSetup): Promise<ServerUnderTest> {
  const started = benchNow();
  const server = await buildServer(
    parseServerConfig({
      dataDir: setup.dataDir,
      host: '127.0.0.1',
      port: 0,
      pollWindowMs: setup.pollWindowMs,
      logLevel: 'silent',
      enrollRateLimit: { max: 1_000_000, windowMs: 60_000 },
    }),
  );
  const url = await server.listen();
  const handedOver = new Map<string, number>();
  server.ctx.bus.subscribe('live', ({ event }) => {
    if (event.type === 'command.state' && event.command.state === 'delivered' && !handedOver.has(event.command.id)) handedOver.set(event.command.id, benchNow());
  });
  const { fleet, commands, polls } = server.services;
  const customer = await fleet.createCustomer({ name: 'Bench Customer', region: 'eu', country: 'DE' }, BENCH_ACTOR);
  const site = await fleet.createSite({ customerId: customer.id, name: 'Bench Site', city: 'Berlin', country: 'DE', timezone: 'Europe/Berlin' }, BENCH_ACTOR);
  const devices: DeviceSlot[] = [];
  for (let i = 0; i < setup.agents; i += 1) {
    const serial = benchSerial(i);
    const created = await fleet.createDevice({ siteId: site.id, modelId: 'stellant-flex', serial }, BENCH_ACTOR);
    devices.push({ deviceId: created.deviceId, serial, enrollmentCode: created.enrollmentCode });
  }

  return {
    ready: { url, caPem: server.ctx.pki.ca.certPem, devices, setupMs: benchNow() - started },
    heldPolls: () => polls.size,
    handedOverAt: (commandId) => handedOver.get(commandId),
    async burst(deviceIds) {
      const createdAt: number[] = [];
      const outcomes = await Promise.allSettled(
        deviceIds.map((deviceId, i) => {
          createdAt[i] = benchNow();
          return commands.create(BENCH_PRINCIPAL, deviceId, { name: 'ping', params: {} }, null);
        }),
      );
      const created: BurstCommand[] = [];
      let failed = 0;
      let firstError: string | undefined;
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'fulfilled') {
          created.push({ commandId: outcome.value.id, deviceId: deviceIds[i] as string, createdAt: createdAt[i] as number });
        } else {
          failed += 1;
          firstError ??= (outcome.reason as Error).message;
        }
      });
      return { commands: created, failed, ...(firstError ? { firstError } : {}) };
    },
    close: () => server.close(),
  };
}
