import type { TetherServer } from '../server/app.ts';
import type { AdminActor } from '../server/users/users-service.ts';
import { generatePassword } from '../server/auth/passwords.ts';
import type { ScopePolicies } from '#contract/sessions';
import { SIM_CUSTOMERS, type PlannedDevice, planFleet } from './fleet-plan.ts';

const SIM_ACTOR: AdminActor = { actorType: 'system', actorId: null, actorName: 'tether-sim', ip: null };

/** The simulator's technician account: an engineer who sees the whole simulated fleet. */
export const SIM_USERNAME = 'trainee';

/** `--consent`: how the simulated customers answer session requests, for every scope. */
export const SIM_CONSENT_MODES = ['auto', 'ask', 'deny'] as const;
export type SimConsentMode = (typeof SIM_CONSENT_MODES)[number];

export function isSimConsentMode(value: string): value is SimConsentMode {
  return (SIM_CONSENT_MODES as readonly string[]).includes(value);
}

/** The customer policy a consent mode stands for: auto allows at once, ask asks the operator at the device. */
export function simConsentPolicies(mode: SimConsentMode): ScopePolicies {
  const policy = mode === 'auto' ? 'allow' : mode;
  return { diagnose: policy, files: policy, tunnel: policy, deploy: policy };
}

/**
 * Brings the embedded server's records in line with a fleet of `n` devices: customers,
 * sites and devices are created when missing (audited as the simulator), every customer
 * gets the consent policy of `consent` (on every start), and every device that has no
 * agent credentials yet gets a fresh enrollment code.
 */
export async function provisionSimFleet(
  server: TetherServer,
  n: number,
  hasCredentials: (serial: string) => boolean,
  consent: SimConsentMode = 'ask',
): Promise<(PlannedDevice & { enrollmentCode?: string })[]> {
  const { db } = server.ctx;
  const { fleet } = server.services;
  const siteIds: string[][] = [];
  for (const planned of SIM_CUSTOMERS) {
    let customer = await db.selectFrom('customers').select('id').where('name', '=', planned.name).executeTakeFirst();
    customer ??= await fleet.createCustomer({ name: planned.name, region: planned.region, country: planned.country }, SIM_ACTOR);
    await server.services.sessions.setCustomerPolicy(customer.id, simConsentPolicies(consent), SIM_ACTOR);
    const ids: string[] = [];
    for (const site of planned.sites) {
      let row = await db.selectFrom('sites').select('id').where('customer_id', '=', customer.id).where('name', '=', site.name).executeTakeFirst();
      row ??= await fleet.createSite({ customerId: customer.id, name: site.name, city: site.city, country: planned.country, timezone: site.timezone }, SIM_ACTOR);
      ids.push(row.id);
    }
    siteIds.push(ids);
  }

  const plan = planFleet(n);
  const existing = new Map((await db.selectFrom('devices').select(['id', 'serial']).execute()).map((d) => [d.serial, d.id]));
  const out: (PlannedDevice & { enrollmentCode?: string })[] = [];
  for (const device of plan) {
    const id = existing.get(device.serial);
    if (id && hasCredentials(device.serial)) {
      out.push(device);
    } else if (id) {
      out.push({ ...device, enrollmentCode: (await fleet.issueEnrollmentCode(id, SIM_ACTOR)).enrollmentCode });
    } else {
      const siteId = siteIds[device.customerIndex]![device.siteIndex]!;
      const created = await fleet.createDevice({ siteId, modelId: device.modelId, serial: device.serial }, SIM_ACTOR);
      out.push({ ...device, enrollmentCode: created.enrollmentCode });
    }
  }
  return out;
}

/** Creates the trainee account, or gives it a fresh password on every start. */
export async function resetSimUser(server: TetherServer): Promise<{ username: string; password: string }> {
  const password = generatePassword();
  const exists = await server.ctx.db.selectFrom('users').select('id').where('username', '=', SIM_USERNAME).executeTakeFirst();
  if (exists) {
    await server.services.users.setPassword(SIM_USERNAME, password, SIM_ACTOR);
  } else {
    await server.services.users.create({ username: SIM_USERNAME, displayName: 'Simulator Trainee', role: 'engineer', password, customerIds: 'all' }, SIM_ACTOR);
  }
  return { username: SIM_USERNAME, password };
}
