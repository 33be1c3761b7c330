import type { WebSocket } from 'ws';
import type { ApiRoutes } from '#contract/http/api-routes';
import { LIVE_CLOSE, LiveClientMessageSchema, type LiveEvent } from '#contract/api/live';
import type { AuthService } from '../auth/auth-service.ts';
import type { Bus } from '../bus/bus.ts';
import { type Principal, inScope } from '../access/principal.ts';
import { principalOf } from '../http/auth-hook.ts';
import type { HandlersFor } from '../http/routes.ts';

/** A console that stops reading is cut off rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const KEEPALIVE_MS = 30_000;

/**
 * `GET /api/v1/events` (WebSocket): live status, data, alarms, events and command states
 * for the devices in the caller's scope. Authenticated before the upgrade; renewed in
 * band with `{type:"auth"}` (a token of the same login session; scope changes apply from
 * then on); closed with 4001 when the token lapses, 4002 when the session is revoked.
 */
export function liveHandlers(auth: AuthService, bus: Bus): HandlersFor<ApiRoutes, 'events'> {
  return { events: { connected: (socket, request) => streamLiveEvents(socket, principalOf(request), auth, bus) } };
}

/** One console's live socket: events in its scope, in-band token renewal, keepalive, expiry. */
function streamLiveEvents(socket: WebSocket, signedIn: Principal, auth: AuthService, bus: Bus): void {
  let principal = signedIn;
  let expiryTimer: NodeJS.Timeout | undefined;
  let alive = true;

  const send = (event: LiveEvent) => {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      socket.close(1013, 'falling behind; reconnect and reload');
      return;
    }
    socket.send(JSON.stringify(event));
  };
  const armExpiry = () => {
    if (expiryTimer) clearTimeout(expiryTimer);
    expiryTimer = setTimeout(() => socket.close(LIVE_CLOSE.tokenExpired, 'access token expired'), Math.max(0, principal.tokenExpiresAt - Date.now()));
  };

  const offLive = bus.subscribe('live', ({ customerId, event }) => {
    if (inScope(principal, customerId)) send(event);
  });
  const offRevoked = bus.subscribe('auth.revoked', ({ familyId }) => {
    if (familyId === principal.familyId) socket.close(LIVE_CLOSE.sessionRevoked, 'session ended');
  });
  const keepalive = setInterval(() => {
    if (!alive) return socket.terminate();
    alive = false;
    socket.ping();
  }, KEEPALIVE_MS);
  socket.on('pong', () => {
    alive = true;
  });

  socket.on('message', (data) => {
    let parsed;
    try {
      parsed = LiveClientMessageSchema.safeParse(JSON.parse(String(data)));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      socket.close(LIVE_CLOSE.badMessage, 'unrecognised message');
      return;
    }
    auth.authenticateToken(parsed.data.accessToken).then(
      (renewed) => {
        if (renewed.id !== principal.id || renewed.familyId !== principal.familyId) {
          socket.close(LIVE_CLOSE.badMessage, 'token belongs to another session');
          return;
        }
        principal = renewed;
        armExpiry();
      },
      () => socket.close(LIVE_CLOSE.tokenExpired, 'renewal token rejected'),
    );
  });

  socket.on('close', () => {
    offLive();
    offRevoked();
    clearInterval(keepalive);
    if (expiryTimer) clearTimeout(expiryTimer);
  });

  armExpiry();
  send({ type: 'hello', serverTime: new Date().toISOString() });
}
