import type { DeviceModelId } from '#contract/device-models';
import type { Customer, Site } from '#contract/api/fleet';
import type { ApiClient } from './http.ts';
import type { TestServer } from './server.ts';

export interface SeededDevice {
  id: string;
  serial: string;
  modelId: DeviceModelId;
  enrollmentCode: string;
}

/** Creates a customer with one site and the given devices through the admin API. */
export async function seedCustomer(
  ts: TestServer,
  name: string,
  devices: readonly { serial: string; modelId: DeviceModelId }[],
): Promise<{ customer: Customer; site: Site; devices: SeededDevice[] }> {
  const customer = await ts.adminClient.post<Customer>('/api/v1/customers', { name, region: 'us', country: 'US' });
  if (customer.status !== 201) throw new Error(`customer: ${JSON.stringify(customer.body)}`);
  const site = await ts.adminClient.post<Site>('/api/v1/sites', { customerId: customer.body.id, name: `${name} Radiology`, city: 'Pittsburgh', country: 'US', timezone: 'America/New_York' });
  if (site.status !== 201) throw new Error(`site: ${JSON.stringify(site.body)}`);
  const seeded: SeededDevice[] = [];
  for (const d of devices) {
    const res = await ts.adminClient.post<{ deviceId: string; enrollmentCode: string }>('/api/v1/devices', { siteId: site.body.id, modelId: d.modelId, serial: d.serial });
    if (res.status !== 201) throw new Error(`device ${d.serial}: ${JSON.stringify(res.body)}`);
    seeded.push({ id: res.body.deviceId, serial: d.serial, modelId: d.modelId, enrollmentCode: res.body.enrollmentCode });
  }
  return { customer: customer.body, site: site.body, devices: seeded };
}

/** Creates a user through the admin API and returns a client signed in as them. */
export async function createUser(
  ts: TestServer,
  username: string,
  role: 'admin' | 'engineer' | 'viewer',
  customerIds: string[] | 'all',
): Promise<{ client: ApiClient; id: string; password: string }> {
  const password = `pw-${username}-correct-horse`;
  const res = await ts.adminClient.post<{ id: string }>('/api/v1/users', { username, displayName: username, role, password, customerIds });
  if (res.status !== 201) throw new Error(`user ${username}: ${JSON.stringify(res.body)}`);
  return { client: await ts.login(username, password), id: res.body.id, password };
}
