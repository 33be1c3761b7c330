import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Table types for Kysely. Times are epoch milliseconds (integers) so they compare and
 * index the same on SQLite and PostgreSQL; JSON columns are text.
 */
export interface Database {
  meta: MetaTable;
  users: UsersTable;
  user_customers: UserCustomersTable;
  token_families: TokenFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  customers: CustomersTable;
  sites: SitesTable;
  devices: DevicesTable;
  enrollment_codes: EnrollmentCodesTable;
  data_items: DataItemsTable;
  data_item_history: DataItemHistoryTable;
  alarms: AlarmsTable;
  device_events: DeviceEventsTable;
  commands: CommandsTable;
  command_transitions: CommandTransitionsTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  consent_policies: ConsentPoliciesTable;
  service_sessions: ServiceSessionsTable;
  session_participants: SessionParticipantsTable;
  session_events: SessionEventsTable;
  command_output: CommandOutputTable;
  transfers: TransfersTable;
  tunnels: TunnelsTable;
  tunnel_tickets: TunnelTicketsTable;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface UsersTable {
  id: string;
  username: string;
  display_name: string;
  role: 'admin' | 'engineer' | 'viewer';
  all_customers: number;
  password_hash: string;
  failed_logins: number;
  locked_until: number | null;
  disabled: number;
  created_at: number;
}
export type UserRow = Selectable<UsersTable>;

export interface UserCustomersTable {
  user_id: string;
  customer_id: string;
}

export interface TokenFamiliesTable {
  id: string;
  user_id: string;
  created_at: number;
  revoked_at: number | null;
  revoke_reason: string | null;
}

export interface RefreshTokensTable {
  id: string;
  family_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface CustomersTable {
  id: string;
  name: string;
  region: string;
  country: string;
  created_at: number;
}

export interface SitesTable {
  id: string;
  customer_id: string;
  name: string;
  city: string;
  country: string;
  timezone: string;
  created_at: number;
}

export interface DevicesTable {
  id: string;
  serial: string;
  name: string;
  model_id: string;
  site_id: string;
  customer_id: string;
  status: 'online' | 'offline' | 'missing';
  status_changed_at: number;
  last_contact_at: number | null;
  enrolled_at: number | null;
  cert_fingerprint: string | null;
  secret_hash: string | null;
  software_version: string | null;
  agent_version: string | null;
  agent_boot_id: string | null;
  created_at: number;
}
export type DeviceRow = Selectable<DevicesTable>;

export interface EnrollmentCodesTable {
  code_hash: string;
  device_id: string;
  created_by: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface DataItemsTable {
  device_id: string;
  key: string;
  value: string;
  at: number;
}

export interface DataItemHistoryTable {
  id: Generated<number>;
  device_id: string;
  key: string;
  value: string;
  at: number;
}

export interface AlarmsTable {
  id: string;
  device_id: string;
  code: string;
  severity: 'critical' | 'major' | 'minor' | 'warning';
  message: string;
  state: 'active' | 'acknowledged' | 'closed';
  count: number;
  first_at: number;
  last_at: number;
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  closed_at: number | null;
}
export type AlarmRow = Selectable<AlarmsTable>;

export interface DeviceEventsTable {
  id: Generated<number>;
  device_id: string;
  at: number;
  type: string;
  severity: 'info' | 'warning' | 'error';
  message: string;
  data: string | null;
}
export type DeviceEventRow = Selectable<DeviceEventsTable>;

export interface CommandsTable {
  id: string;
  device_id: string;
  name: string;
  params: string;
  state: 'queued' | 'delivered' | 'running' | 'succeeded' | 'failed' | 'expired' | 'canceled';
  created_by: string;
  created_at: number;
  updated_at: number;
  expires_at: number;
  attempts: number;
  cancel_requested: number;
  result: string | null;
  error: string | null;
  session_id: string | null;
  /** JSON of the latest CommandProgress. */
  progress: string | null;
  /** Output lines stored so far (their seq runs 1..output_lines). */
  output_lines: number;
}
export type CommandRow = Selectable<CommandsTable>;
export type CommandUpdate = Updateable<CommandsTable>;

export interface CommandTransitionsTable {
  id: Generated<number>;
  command_id: string;
  state: CommandsTable['state'];
  at: number;
  detail: string | null;
}

export interface AuditLogTable {
  seq: number;
  at: number;
  actor_type: 'user' | 'device' | 'system' | 'anonymous';
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: 'ok' | 'denied' | 'failed';
  ip: string | null;
  detail: string | null;
  prev_hash: string;
  hash: string;
}
export type AuditRow = Selectable<AuditLogTable>;
export type NewAuditRow = Insertable<AuditLogTable>;

export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface ConsentPoliciesTable {
  subject_type: 'customer' | 'device';
  subject_id: string;
  scope: 'diagnose' | 'files' | 'tunnel' | 'deploy';
  policy: 'allow' | 'ask' | 'deny';
  updated_at: number;
}

export interface ServiceSessionsTable {
  id: string;
  device_id: string;
  customer_id: string;
  engineer_id: string;
  /** JSON array of scopes. */
  scopes: string;
  reason: string;
  duration_minutes: number;
  state: 'requested' | 'awaiting-consent' | 'active' | 'ended' | 'denied';
  end_cause: 'USER_ENDED' | 'CUSTOMER_REVOKED' | 'EXPIRED' | 'DENIED' | 'CONSENT_TIMEOUT' | 'DEVICE_OFFLINE' | 'ADMIN_TERMINATED' | null;
  created_at: number;
  /** A consent question outstanding: for the start, or for an extension. */
  consent_kind: 'start' | 'extend' | null;
  consent_deadline: number | null;
  extension_minutes: number | null;
  decided_by: string | null;
  decided_at: number | null;
  activated_at: number | null;
  expires_at: number | null;
  ended_at: number | null;
}
export type ServiceSessionRow = Selectable<ServiceSessionsTable>;

export interface SessionParticipantsTable {
  session_id: string;
  user_id: string;
  role: 'controller' | 'observer';
  joined_at: number;
  left_at: number | null;
}

export interface SessionEventsTable {
  id: Generated<number>;
  session_id: string;
  at: number;
  type: string;
  detail: string | null;
}

export interface CommandOutputTable {
  command_id: string;
  seq: number;
  at: number;
  text: string;
}

export interface TransfersTable {
  id: string;
  device_id: string;
  customer_id: string;
  session_id: string;
  direction: 'to-device' | 'from-device';
  device_path: string;
  file_name: string;
  overwrite: number;
  state: 'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'canceled';
  /** The user who started it. */
  created_by: string;
  created_at: number;
  updated_at: number;
  /** When it last entered `queued` (the queue is first come, first served). */
  queued_at: number;
  completed_at: number | null;
  expires_at: number;
  chunk_size: number;
  /** The manifest, once the sender declared it: size, whole hash, per-chunk hashes (JSON array). */
  size: number | null;
  sha256: string | null;
  chunks: string | null;
  /** Bytes held or passed on: whole chunks only, contiguous from 0. */
  uploaded_bytes: number;
  /** Chunks the receiver verified; held chunks below are deleted. */
  delivered_chunks: number;
  /** The spool's AES-256 key (base64); null once purged. */
  spool_key: string | null;
  /** When the spool folder was removed. */
  purged_at: number | null;
  /** The device command now doing the agent's part. */
  command_id: string | null;
  /** Device commands queued for it so far (the first one and every automatic re-queue). */
  attempts: number;
  /** An interrupted device command is queued again at this time. */
  retry_at: number | null;
  /** JSON { code, message } of the failure. */
  error: string | null;
}
export type TransferRow = Selectable<TransfersTable>;

/** A tunnel to a device's service port; counters are flushed about once a second while it carries traffic. */
export interface TunnelsTable {
  id: string;
  device_id: string;
  customer_id: string;
  session_id: string;
  target_id: string;
  target_port: number;
  state: 'opening' | 'open' | 'closed';
  console_path: 'direct' | 'fallback' | null;
  agent_path: 'direct' | 'fallback' | null;
  bytes_to_device: number;
  bytes_from_device: number;
  total_connections: number;
  opened_by: string;
  opened_at: number;
  closed_at: number | null;
  end_cause: string | null;
  command_id: string | null;
}
export type TunnelRow = Selectable<TunnelsTable>;

/** One-time console-leg tickets: only the SHA-256 is kept; `used_at` set once, in a transaction. */
export interface TunnelTicketsTable {
  ticket_hash: string;
  tunnel_id: string;
  user_id: string;
  session_id: string;
  device_id: string;
  target_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}
export type TunnelTicketRow = Selectable<TunnelTicketsTable>;
