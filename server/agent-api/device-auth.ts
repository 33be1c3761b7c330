import { timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest, preHandlerHookHandler } from 'fastify';
import { TetherError } from '#contract/errors';
import { DEVICE_SECRET_HEADER } from '#contract/protocol/enroll';
import type { ServerContext } from '../context.ts';
import { hashOpaqueToken } from '../auth/tokens.ts';
import type { DeviceRow } from '../store/schema.ts';
import { clientIp } from '../http/errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The device whose agent sent this request, once `requireDevice` admitted it. */
    device?: DeviceRow;
  }
}

/** A preHandler for agent routes: admits the request with `authenticateDevice` and keeps the device on it. */
export function requireDevice(ctx: ServerContext): preHandlerHookHandler {
  return async (request) => {
    request.device = await authenticateDevice(ctx, request);
  };
}

/** The device a `requireDevice` preHandler put on the request. */
export function deviceOf(request: FastifyRequest): DeviceRow {
  if (!request.device) throw new TetherError('DEVICE_AUTH_FAILED', 'this route is for enrolled devices');
  return request.device;
}

/**
 * Admits an agent request only with both factors: a client certificate issued by the
 * device CA (checked by TLS, then matched to the device's enrolled certificate) and the
 * device secret. Any failure is a 401 DEVICE_AUTH_FAILED and an audit entry saying why.
 */
export async function authenticateDevice(ctx: ServerContext, request: FastifyRequest): Promise<DeviceRow> {
  return authenticateDeviceConnection(ctx, {
    socket: request.raw.socket as TLSSocket,
    secret: request.headers[DEVICE_SECRET_HEADER],
    ip: clientIp(request),
    path: request.url.split('?')[0] ?? request.url,
  });
}

/**
 * The same check on a bare connection (the tunnel relay's agent port, outside Fastify): the
 * TLS socket's client certificate and the secret the request carried.
 */
export async function authenticateDeviceConnection(
  ctx: ServerContext,
  connection: { socket: TLSSocket; secret: string | string[] | undefined; ip: string | null; path: string },
): Promise<DeviceRow> {
  const { socket, secret } = connection;
  let claimedId: string | null = null;
  let reason: string;
  if (!socket.authorized) {
    reason = socket.getPeerCertificate?.()?.subject ? `client certificate not trusted (${String(socket.authorizationError)})` : 'no client certificate';
  } else {
    const cert = peerIdentity(socket);
    claimedId = cert.cn;
    const device = claimedId
      ? await ctx.db.selectFrom('devices').selectAll().where('id', '=', claimedId).executeTakeFirst()
      : undefined;
    if (!device || device.enrolled_at === null || !device.cert_fingerprint || !device.secret_hash) {
      reason = 'certificate names no enrolled device';
    } else if (device.cert_fingerprint !== cert.fingerprint256) {
      reason = 'certificate was replaced by a later enrollment';
    } else if (typeof secret !== 'string' || !secret) {
      reason = 'no device secret';
    } else if (!safeEqualHex(hashOpaqueToken(secret), device.secret_hash)) {
      reason = 'wrong device secret';
    } else {
      return device;
    }
  }
  await ctx.audit.append({
    actorType: 'device',
    actorId: claimedId,
    action: 'agent.auth',
    targetType: 'device',
    targetId: claimedId,
    outcome: 'denied',
    ip: connection.ip,
    detail: { reason, path: connection.path },
  });
  throw new TetherError('DEVICE_AUTH_FAILED', `device authentication failed: ${reason}`);
}

/** A TLS session's client certificate never changes: read it once per connection. */
const identities = new WeakMap<TLSSocket, { cn: string | null; fingerprint256: string }>();

function peerIdentity(socket: TLSSocket): { cn: string | null; fingerprint256: string } {
  let identity = identities.get(socket);
  if (!identity) {
    const cert = socket.getPeerCertificate();
    identity = { cn: typeof cert.subject?.CN === 'string' ? cert.subject.CN : null, fingerprint256: cert.fingerprint256 };
    identities.set(socket, identity);
  }
  return identity;
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
