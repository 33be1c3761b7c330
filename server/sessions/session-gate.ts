import { TetherError } from '#contract/errors';
import type { SessionScope } from '#contract/sessions';
import type { ServerContext } from '../context.ts';
import type { Principal } from '../access/principal.ts';
import type { ServiceSessionRow } from '../store/schema.ts';
import type { GrantIssuer } from './grants.ts';
import { sessionScopes } from './views.ts';

/**
 * The read side of service sessions that other domains need before they act: is this
 * session active, on this device, with this scope, and controlled by the caller — and the
 * grant the agent checks. Built before commands, transfers and tunnels (which are handed
 * it) and before the session service (which is handed them), so no domain waits for
 * another to be attached.
 */
export class SessionGate {
  constructor(
    private readonly ctx: ServerContext,
    private readonly grants: GrantIssuer,
  ) {}

  /**
   * The session a privileged command runs in: it must exist on this device, be active,
   * include the scope, and be controlled by the caller. Observers only watch.
   */
  async requireControlledSession(principal: Principal, sessionId: string | undefined, deviceId: string, scope: SessionScope): Promise<ServiceSessionRow> {
    if (!sessionId) throw new TetherError('SESSION_REQUIRED', `this needs an active service session with the ${scope} scope on the device`);
    const row = await this.ctx.db.selectFrom('service_sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
    if (!row || row.device_id !== deviceId) throw new TetherError('SESSION_REQUIRED', 'that session is not on this device');
    if (row.state !== 'active' || (row.expires_at !== null && Number(row.expires_at) <= Date.now())) {
      throw new TetherError('SESSION_NOT_ACTIVE', 'the session is not active');
    }
    if (row.engineer_id !== principal.id) throw new TetherError('FORBIDDEN', 'observers cannot run commands; only the engineer in control can');
    if (!sessionScopes(row).includes(scope)) throw new TetherError('SESSION_REQUIRED', `the session does not include the ${scope} scope`);
    return row;
  }

  /** A grant for a session row: a privileged command's delivery and the device's state sync carry it. */
  grantFor(row: ServiceSessionRow): Promise<string> {
    return this.grants.sign({
      deviceId: row.device_id,
      sessionId: row.id,
      scopes: sessionScopes(row),
      issuedAt: Number(row.activated_at ?? row.created_at),
      expiresAt: Number(row.expires_at ?? 0),
    });
  }
}
