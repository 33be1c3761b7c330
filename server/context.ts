import type { Logger } from 'pino';
import type { ServerConfig } from './config.ts';
import type { Db } from './store/database.ts';
import type { Bus } from './bus/bus.ts';
import type { AuditLog } from './audit/audit-log.ts';
import type { ServerPki } from './pki/pki.ts';
import type { AccessTokenIssuer } from './auth/tokens.ts';

/**
 * What every server domain is given (never imports as a singleton): configuration, the
 * store, the bus between nodes, the audit log, key material and the logger.
 */
export interface ServerContext {
  readonly config: ServerConfig;
  readonly db: Db;
  readonly bus: Bus;
  readonly audit: AuditLog;
  readonly pki: ServerPki;
  readonly tokens: AccessTokenIssuer;
  readonly log: Logger;
  /** The version string reported by health and the OpenAPI document. */
  readonly version: string;
}
