import { readFile } from 'node:fs/promises';
import { AGENT_ROUTES } from '#contract/http/agent-routes';
import { pathOf } from '#contract/http/client';
import type { Fleet, FleetMember } from '../../../agent-sim/fleet.ts';
import type { AgentConfigInput } from '../../../agent-sim/agent/config.ts';
import type { LocalAuditEntry } from '../../../agent-sim/agent/local-audit.ts';
import type { ServiceEndpoint } from '../../../agent-sim/agent/device.ts';
import type { AuditEntry } from '#contract/api/audit';
import type { SessionView } from '#contract/api/sessions';
import type { OpenTunnelResponse, TunnelView } from '#contract/api/tunnels';
import type { ErrorBody } from '#contract/errors';
import type { ScopePolicies } from '#contract/sessions';
import { type RelayEndpoint, type TunnelState } from '#contract/tunnels';
import type { ServerConfigInput } from '../../../server/config.ts';
import { type SeededDevice, createUser, seedCustomer } from '../../helpers/admin.ts';
import { startFleet } from '../../helpers/fleet.ts';
import type { ApiClient } from '../../helpers/http.ts';
import { type TestServer, startTestServer } from '../../helpers/server.ts';
import { startEchoServer } from '../../helpers/tunnel-client.ts';
import { waitFor } from '../../helpers/wait.ts';

const ALLOW_ALL: ScopePolicies = { diagnose: 'allow', files: 'allow', tunnel: 'allow', deploy: 'allow' };

/**
 * A real server (TLS on loopback, relay ports ephemeral), one real agent for an MRXperion,
 * a customer whose policy allows every scope, two engineers of that customer, and a
 * loopback echo server the device's `service-web` target points at.
 */
export interface TunnelWorld {
  ts: TestServer;
  fleet: Fleet;
  member: FleetMember;
  device: SeededDevice;
  /** Further devices of the same customer (enrolled, agents running). */
  others: SeededDevice[];
  engineer: ApiClient;
  /** The engineer's sign-in, for a console of the same user. */
  engineerSignIn: { username: string; password: string };
  /** Another engineer of the same customer. */
  other: ApiClient;
  echo: Awaited<ReturnType<typeof startEchoServer>>;
  close(): Promise<void>;
}

export async function startTunnelWorld(
  name: string,
  serial: string,
  config: Partial<ServerConfigInput> = {},
  otherSerials: string[] = [],
  /** The agents' own settings (a proxy, a server name and its host map); may depend on the server. */
  agent: (ts: TestServer) => Partial<AgentConfigInput> = () => ({}),
): Promise<TunnelWorld> {
  const ts = await startTestServer({ pollWindowMs: 5000, ...config });
  const seeded = await seedCustomer(ts, name, [serial, ...otherSerials].map((s) => ({ serial: s, modelId: 'mrxperion' as const })));
  await ts.adminClient.put(`/api/v1/customers/${seeded.customer.id}/consent-policy`, { policies: ALLOW_ALL });
  const fleet = await startFleet(ts, seeded.devices, { tickMs: 1000, agent: agent(ts) });
  const slug = name.toLowerCase().replace(/\W+/g, '-');
  const engineer = await createUser(ts, `${slug}-eng`, 'engineer', [seeded.customer.id]);
  const other = await createUser(ts, `${slug}-other`, 'engineer', [seeded.customer.id]);
  for (const d of seeded.devices) {
    await waitFor(async () => (await ts.adminClient.get<{ status: string }>(`/api/v1/devices/${d.id}`)).body.status === 'online', { timeoutMs: 30_000, what: 'agent online' });
  }
  const echo = await startEchoServer();
  const member = fleet.get(serial);
  pointTarget(member, 'service-web', { host: '127.0.0.1', port: echo.port });
  return {
    ts,
    fleet,
    member,
    device: seeded.devices[0]!,
    others: seeded.devices.slice(1),
    engineer: engineer.client,
    engineerSignIn: { username: `${slug}-eng`, password: engineer.password },
    other: other.client,
    echo,
    async close() {
      await fleet.stopAll({ goodbye: false });
      await echo.close();
      await ts.destroy();
    },
  };
}

/** Points one tunnel target of a simulated device at a test's own loopback server. */
export function pointTarget(member: FleetMember, targetId: string, endpoint: ServiceEndpoint): void {
  const device = member.device;
  const simulated = device.serviceEndpoint.bind(device);
  device.serviceEndpoint = (id: string) => (id === targetId ? Promise.resolve(endpoint) : simulated(id));
}

export async function openSession(client: ApiClient, deviceId: string, scopes: string[] = ['tunnel']): Promise<SessionView> {
  const res = await client.post<SessionView>(`/api/v1/devices/${deviceId}/sessions`, { scopes, reason: 'INC-5150 service page', durationMinutes: 30 });
  if (res.status !== 201 || res.body.state !== 'active') throw new Error(`session: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function endSession(client: ApiClient, sessionId: string): Promise<void> {
  const res = await client.post(`/api/v1/sessions/${sessionId}/end`);
  if (res.status !== 200) throw new Error(`end session: ${res.status} ${JSON.stringify(res.body)}`);
}

export async function openTunnel(client: ApiClient, sessionId: string, targetId = 'service-web'): Promise<OpenTunnelResponse> {
  const res = await client.post<OpenTunnelResponse>(`/api/v1/sessions/${sessionId}/tunnels`, { targetId });
  if (res.status !== 201) throw new Error(`open tunnel: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Opening refused: the status and the error code. */
export async function openRefused(client: ApiClient, sessionId: string, targetId: string): Promise<{ status: number; code: string }> {
  const res = await client.post<ErrorBody>(`/api/v1/sessions/${sessionId}/tunnels`, { targetId });
  return { status: res.status, code: res.body.error?.code };
}

export async function tunnelView(client: ApiClient, id: string): Promise<TunnelView> {
  return (await client.get<TunnelView>(`/api/v1/tunnels/${id}`)).body;
}

export function waitForTunnel(client: ApiClient, id: string, state: TunnelState, timeoutMs = 15_000): Promise<TunnelView> {
  return waitFor(async () => {
    const view = await tunnelView(client, id);
    return view.state === state ? view : undefined;
  }, { timeoutMs, intervalMs: 20, what: `tunnel ${state}` });
}

export async function auditOf(ts: TestServer, action: string): Promise<AuditEntry[]> {
  return (await ts.adminClient.get<{ items: AuditEntry[] }>(`/api/v1/audit?action=${action}&limit=500`)).body.items;
}

export async function localAudit(member: FleetMember): Promise<LocalAuditEntry[]> {
  const text = await readFile(member.agent.audit.path, 'utf8');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LocalAuditEntry);
}

/** Where the agent leg of a tunnel dials, as the server tells the device. */
export function agentRelay(world: TunnelWorld, tunnelId: string): RelayEndpoint {
  const api = new URL(world.ts.url);
  return { host: '127.0.0.1', port: world.ts.server.services.tunnels.relayPorts.agentPort, fallbackUrl: `wss://${api.host}${pathOf(AGENT_ROUTES, 'tunnels.link', { tunnelId: tunnelId })}` };
}
