import { describe, expect, it } from 'vitest';
import type { SessionView } from '#contract/api/sessions';
import { type ScopedWork, scopeBlockedReason, timelineDetail } from '../../../src/renderer/lib/session-format.ts';
import { formatDateTime } from '../../../src/renderer/lib/time-format.ts';

describe('timelineDetail', () => {
  it('shows the UTC instants the server wrote in local time, and leaves the rest alone', () => {
    const iso = '2026-11-27T10:28:07.000Z';
    expect(timelineDetail(`approved by Pat; until ${iso}`)).toBe(`approved by Pat; until ${formatDateTime(iso)}`);
    expect(timelineDetail('30 more minutes (allowed by policy); until 2026-11-27T10:28:07Z')).not.toContain('T10:28');
    expect(timelineDetail('CUSTOMER_REVOKED: revoked at the device')).toBe('CUSTOMER_REVOKED: revoked at the device');
    expect(timelineDetail(null)).toBe('');
  });
});

describe('scopeBlockedReason', () => {
  const work: ScopedWork = { scope: 'tunnel', needs: 'A tunnel', whenActive: 'tunnels open then', controllerOnly: 'open tunnels' };
  const device = { status: 'online' as const, serial: 'SFX-00001' };
  const person = (id: string, name: string) => ({ id, username: name.toLowerCase(), displayName: name });
  const session = (over: Partial<SessionView>): SessionView => ({
    id: 's1', deviceId: 'd1', state: 'active', endCause: null, scopes: ['tunnel'], reason: 'ticket 1', durationMinutes: 30,
    engineer: person('u1', 'Pat'), observers: [person('u2', 'Sam')], createdAt: '', consentDeadline: null, decidedBy: null, decidedAt: null,
    activatedAt: null, expiresAt: null, endedAt: null, pendingExtension: null, timeline: [], ...over,
  });

  it('lets the controller of an active session with the scope through, and says why to everyone else', () => {
    expect(scopeBlockedReason(work, session({}), 'u1', 'engineer', device)).toBeNull();
    expect(scopeBlockedReason(work, session({}), 'u1', 'viewer', device)?.text).toMatch(/view-only/);
    expect(scopeBlockedReason(work, null, 'u1', 'engineer', device)).toEqual({ text: 'A tunnel needs an active service session with the Tunnel scope, which the customer consents to.', canRequest: true });
    expect(scopeBlockedReason(work, null, 'u1', 'engineer', { ...device, status: 'offline' })).toMatchObject({ canRequest: false, text: expect.stringContaining('SFX-00001 is offline') });
    expect(scopeBlockedReason(work, session({ state: 'awaiting-consent' }), 'u1', 'engineer', device)?.text).toBe('Waiting for the customer’s consent; tunnels open then.');
    expect(scopeBlockedReason(work, session({}), 'u2', 'engineer', device)?.text).toBe('Pat is in control of this session; only they can open tunnels.');
    expect(scopeBlockedReason(work, session({ scopes: ['files'] }), 'u1', 'engineer', device)?.text).toBe('This session does not include the Tunnel scope. End it and request one with Tunnel.');
  });
});
