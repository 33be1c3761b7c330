import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_ROUTES } from '#contract/http/agent-routes';
import { pathOf } from '#contract/http/client';
import type { OpenTunnelResponse, TunnelTicket } from '#contract/api/tunnels';
import { dialTunnelLink } from '#node-lib/tunnel-link';
import { createCertificateAuthority, issueServerCertificate } from '../../../server/pki/certificates.ts';
import { TUNNEL_WIRE } from '#contract/tunnels';
import { connectTunnelClient } from '../../helpers/tunnel-client.ts';
import { type TunnelWorld, agentRelay, auditOf, endSession, openRefused, openSession, openTunnel, startTunnelWorld, waitForTunnel } from './harness.ts';

const TICKET_TTL_MS = 1500;

/** Every way in that is not the engineer's own fresh ticket, or the device's own certificate and secret, is refused and audited. */
describe('tunnel refusals', () => {
  let world: TunnelWorld;
  let sessionId: string;
  let opened: OpenTunnelResponse;

  const refusal = async (tunnelId: string, reason: RegExp) => {
    const entries = await auditOf(world.ts, 'tunnel.refused');
    const entry = entries.find((e) => e.detail?.tunnelId === tunnelId && reason.test(String(e.detail?.reason)));
    expect(entry, `an audited refusal matching ${reason}`).toBeDefined();
    return entry!;
  };
  const consoleDial = (link: TunnelTicket, token: string) => connectTunnelClient({ tunnelId: opened.tunnel.id, link, token, ca: world.ts.ca });

  beforeAll(async () => {
    world = await startTunnelWorld('Refusal Radiology', 'MRX-RF00001', { tunnels: { ticketTtlMs: TICKET_TTL_MS } }, ['MRX-RF00002']);
    sessionId = (await openSession(world.engineer, world.device.id)).id;
    opened = await openTunnel(world.engineer, sessionId);
    await waitForTunnel(world.engineer, opened.tunnel.id, 'open');
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  it('admits a ticket once: the replay is refused (TUNNEL_TICKET_INVALID) and audited, never with the ticket', async () => {
    const first = await consoleDial(opened.link, world.engineer.token!);
    first.close();
    await expect(consoleDial(opened.link, world.engineer.token!)).rejects.toMatchObject({ code: 'TUNNEL_TICKET_INVALID' });
    const entry = await refusal(opened.tunnel.id, /replayed/);
    expect(entry.actorName).toBe('refusal-radiology-eng');
    expect(JSON.stringify(entry)).not.toContain(opened.link.ticket);
  });

  it('refuses an expired ticket', async () => {
    const ticket = (await world.engineer.post<TunnelTicket>(`/api/v1/tunnels/${opened.tunnel.id}/tickets`)).body;
    await new Promise((resolve) => setTimeout(resolve, TICKET_TTL_MS + 200));
    await expect(consoleDial(ticket, world.engineer.token!)).rejects.toMatchObject({ code: 'TUNNEL_TICKET_INVALID' });
    await refusal(opened.tunnel.id, /expired/);
  });

  it('refuses another user’s ticket, even with that user’s valid token', async () => {
    const ticket = (await world.engineer.post<TunnelTicket>(`/api/v1/tunnels/${opened.tunnel.id}/tickets`)).body;
    await expect(consoleDial(ticket, world.other.token!)).rejects.toMatchObject({ code: 'TUNNEL_TICKET_INVALID' });
    const entry = await refusal(opened.tunnel.id, /another user/);
    expect(entry.actorName).toBe('refusal-radiology-other');
    // nor may the other user get a ticket of their own for it
    expect((await world.other.post(`/api/v1/tunnels/${opened.tunnel.id}/tickets`)).status).toBe(403);
  });

  it('refuses a console leg without a token, or with a made-up ticket', async () => {
    await expect(consoleDial(opened.link, 'not-a-token')).rejects.toMatchObject({ code: expect.stringMatching(/TOKEN_INVALID|UNAUTHENTICATED/) });
    const madeUp = { ...opened.link, ticket: 'A'.repeat(43) };
    await expect(consoleDial(madeUp, world.engineer.token!)).rejects.toMatchObject({ code: 'TUNNEL_TICKET_INVALID' });
    await refusal(opened.tunnel.id, /unknown ticket/);
  });

  it('refuses an agent leg with a wrong secret, another device’s certificate, no certificate, or a foreign one', async () => {
    const own = world.member.agent.credentials;
    const other = world.fleet.get('MRX-RF00002').agent.credentials;
    const dial = (headers: Record<string, string>, cert?: { cert: string; key: string }) =>
      dialTunnelLink({ relay: agentRelay(world, opened.tunnel.id), path: pathOf(AGENT_ROUTES, 'tunnels.link', { tunnelId: opened.tunnel.id }), headers, ca: world.ts.ca, ...(cert ?? {}) });

    await expect(dial({ [TUNNEL_WIRE.deviceSecretHeader]: 'wrong' }, { cert: own.certificatePem, key: own.privateKeyPem })).rejects.toMatchObject({ code: 'DEVICE_AUTH_FAILED' });
    await refusal(opened.tunnel.id, /wrong device secret/);

    await expect(dial({ [TUNNEL_WIRE.deviceSecretHeader]: other.deviceSecret }, { cert: other.certificatePem, key: other.privateKeyPem })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const foreign = await refusal(opened.tunnel.id, /another device/);
    expect(foreign.actorId).toBe(world.others[0]!.id);

    await expect(dial({ [TUNNEL_WIRE.deviceSecretHeader]: own.deviceSecret })).rejects.toMatchObject({ code: 'DEVICE_AUTH_FAILED' });
    await refusal(opened.tunnel.id, /no client certificate/);

    // a certificate from some other CA, with the right secret
    const rogueCa = await createCertificateAuthority('Rogue CA');
    const rogue = await issueServerCertificate(rogueCa, ['127.0.0.1']);
    await expect(dial({ [TUNNEL_WIRE.deviceSecretHeader]: own.deviceSecret }, { cert: rogue.certPem, key: rogue.keyPem })).rejects.toMatchObject({ code: 'DEVICE_AUTH_FAILED' });
    await refusal(opened.tunnel.id, /not trusted/);
    // none of it disturbed the tunnel
    expect((await world.engineer.get<{ state: string }>(`/api/v1/tunnels/${opened.tunnel.id}`)).body.state).toBe('open');
  });

  it('refuses to open a tunnel to a target the model does not allow', async () => {
    expect(await openRefused(world.engineer, sessionId, 'vnc')).toEqual({ status: 403, code: 'TUNNEL_TARGET_NOT_ALLOWED' });
    const entry = (await auditOf(world.ts, 'tunnel.refused')).find((e) => e.detail?.targetId === 'vnc');
    expect(entry?.detail).toMatchObject({ code: 'TUNNEL_TARGET_NOT_ALLOWED', sessionId });
  });

  it('refuses the generic command route queueing open-tunnel itself', async () => {
    const res = await world.engineer.post<{ error: { code: string } }>(`/api/v1/devices/${world.device.id}/commands`, {
      name: 'open-tunnel',
      sessionId,
      params: { tunnelId: opened.tunnel.id, targetId: 'service-web', relay: opened.link.relay },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('refuses a tunnel in a session without the tunnel scope, and in another engineer’s session', async () => {
    await endSession(world.engineer, sessionId);
    const files = await openSession(world.engineer, world.device.id, ['files']);
    expect(await openRefused(world.engineer, files.id, 'service-web')).toEqual({ status: 403, code: 'SESSION_REQUIRED' });
    expect(await openRefused(world.other, files.id, 'service-web')).toEqual({ status: 403, code: 'FORBIDDEN' });
    const entries = (await auditOf(world.ts, 'tunnel.refused')).filter((e) => e.detail?.sessionId === files.id);
    expect(entries.map((e) => e.detail?.code).sort()).toEqual(['FORBIDDEN', 'SESSION_REQUIRED']);
    await endSession(world.engineer, files.id);
    // and an ended session opens nothing
    expect(await openRefused(world.engineer, files.id, 'service-web')).toEqual({ status: 409, code: 'SESSION_NOT_ACTIVE' });
  });
});
