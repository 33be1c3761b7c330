import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';

/**
 * Schema migrations, in code so they ship inside the server. Each is applied once, in
 * name order, inside a transaction; never edit one that has shipped — add another.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('customers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('country', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('sites')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('city', 'text', (c) => c.notNull())
        .addColumn('country', 'text', (c) => c.notNull())
        .addColumn('timezone', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sites_customer').on('sites').column('customer_id').execute();

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('all_customers', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_until', 'bigint')
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('user_customers')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('user_customers_pk', ['user_id', 'customer_id'])
        .execute();

      await db.schema
        .createTable('token_families')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('revoke_reason', 'text')
        .execute();

      await db.schema
        .createTable('refresh_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('family_id', 'text', (c) => c.notNull().references('token_families.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();

      await db.schema
        .createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('serial', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('model_id', 'text', (c) => c.notNull())
        .addColumn('site_id', 'text', (c) => c.notNull().references('sites.id'))
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_changed_at', 'bigint', (c) => c.notNull())
        .addColumn('last_contact_at', 'bigint')
        .addColumn('enrolled_at', 'bigint')
        .addColumn('cert_fingerprint', 'text')
        .addColumn('secret_hash', 'text')
        .addColumn('software_version', 'text')
        .addColumn('agent_version', 'text')
        .addColumn('agent_boot_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('devices_customer').on('devices').columns(['customer_id', 'serial']).execute();
      await db.schema.createIndex('devices_status').on('devices').columns(['status', 'last_contact_at']).execute();

      await db.schema
        .createTable('enrollment_codes')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();

      await db.schema
        .createTable('data_items')
        .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('data_items_pk', ['device_id', 'key'])
        .execute();

      await db.schema
        .createTable('data_item_history')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('data_item_history_key')
        .on('data_item_history')
        .columns(['device_id', 'key', 'at'])
        .execute();

      await db.schema
        .createTable('alarms')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('first_at', 'bigint', (c) => c.notNull())
        .addColumn('last_at', 'bigint', (c) => c.notNull())
        .addColumn('acknowledged_by', 'text')
        .addColumn('acknowledged_at', 'bigint')
        .addColumn('closed_at', 'bigint')
        .execute();
      await db.schema.createIndex('alarms_device_state').on('alarms').columns(['device_id', 'state', 'code']).execute();

      await db.schema
        .createTable('device_events')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('data', 'text')
        .execute();
      await db.schema.createIndex('device_events_device').on('device_events').columns(['device_id', 'id']).execute();

      await db.schema
        .createTable('commands')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('result', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('commands_device_state').on('commands').columns(['device_id', 'state']).execute();
      await db.schema.createIndex('commands_state_expiry').on('commands').columns(['state', 'expires_at']).execute();

      await db.schema
        .createTable('command_transitions')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('command_id', 'text', (c) => c.notNull().references('commands.id').onDelete('cascade'))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('command_transitions_cmd').on('command_transitions').column('command_id').execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor_type', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text')
        .addColumn('actor_name', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text')
        .addColumn('target_id', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('ip', 'text')
        .addColumn('detail', 'text')
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_action').on('audit_log').columns(['action', 'seq']).execute();
      await db.schema.createIndex('audit_target').on('audit_log').columns(['target_id', 'seq']).execute();

      await db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await sql`insert into audit_head (id, seq, hash) values (1, 0, ${'0'.repeat(64)})`.execute(db);
    },
  },
  '0002_service_sessions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('consent_policies')
        .addColumn('subject_type', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('policy', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('consent_policies_pk', ['subject_type', 'subject_id', 'scope'])
        .execute();

      await db.schema
        .createTable('service_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('engineer_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('duration_minutes', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('end_cause', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('consent_kind', 'text')
        .addColumn('consent_deadline', 'bigint')
        .addColumn('extension_minutes', 'integer')
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'bigint')
        .addColumn('activated_at', 'bigint')
        .addColumn('expires_at', 'bigint')
        .addColumn('ended_at', 'bigint')
        .execute();
      await db.schema.createIndex('service_sessions_device').on('service_sessions').columns(['device_id', 'state']).execute();
      await db.schema.createIndex('service_sessions_state').on('service_sessions').columns(['state', 'expires_at']).execute();

      await db.schema
        .createTable('session_participants')
        .addColumn('session_id', 'text', (c) => c.notNull().references('service_sessions.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('joined_at', 'bigint', (c) => c.notNull())
        .addColumn('left_at', 'bigint')
        .addPrimaryKeyConstraint('session_participants_pk', ['session_id', 'user_id'])
        .execute();

      await db.schema
        .createTable('session_events')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('session_id', 'text', (c) => c.notNull().references('service_sessions.id').onDelete('cascade'))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('session_events_session').on('session_events').columns(['session_id', 'id']).execute();

      await db.schema.alterTable('commands').addColumn('session_id', 'text').execute();
      await db.schema.alterTable('commands').addColumn('progress', 'text').execute();
      await db.schema.alterTable('commands').addColumn('output_lines', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.createIndex('commands_session').on('commands').column('session_id').execute();

      await db.schema
        .createTable('command_output')
        .addColumn('command_id', 'text', (c) => c.notNull().references('commands.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('command_output_pk', ['command_id', 'seq'])
        .execute();
    },
  },
  '0003_file_transfers': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('transfers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text', (c) => c.notNull().references('service_sessions.id').onDelete('cascade'))
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('device_path', 'text', (c) => c.notNull())
        .addColumn('file_name', 'text', (c) => c.notNull())
        .addColumn('overwrite', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('queued_at', 'bigint', (c) => c.notNull())
        .addColumn('completed_at', 'bigint')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('chunk_size', 'integer', (c) => c.notNull())
        .addColumn('size', 'bigint')
        .addColumn('sha256', 'text')
        .addColumn('chunks', 'text')
        .addColumn('uploaded_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('delivered_chunks', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('spool_key', 'text')
        .addColumn('purged_at', 'bigint')
        .addColumn('command_id', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('retry_at', 'bigint')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('transfers_device').on('transfers').columns(['device_id', 'created_at']).execute();
      await db.schema.createIndex('transfers_state').on('transfers').columns(['state', 'queued_at']).execute();
      await db.schema.createIndex('transfers_session').on('transfers').column('session_id').execute();
      await db.schema.createIndex('transfers_creator').on('transfers').columns(['created_by', 'created_at']).execute();
      await db.schema.createIndex('transfers_command').on('transfers').column('command_id').execute();
    },
  },
  '0004_tunnels': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('tunnels')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text', (c) => c.notNull().references('service_sessions.id').onDelete('cascade'))
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('target_port', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('console_path', 'text')
        .addColumn('agent_path', 'text')
        .addColumn('bytes_to_device', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('bytes_from_device', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('total_connections', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('opened_by', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('closed_at', 'bigint')
        .addColumn('end_cause', 'text')
        .addColumn('command_id', 'text')
        .execute();
      await db.schema.createIndex('tunnels_device').on('tunnels').columns(['device_id', 'opened_at']).execute();
      await db.schema.createIndex('tunnels_session').on('tunnels').column('session_id').execute();
      await db.schema.createIndex('tunnels_opener').on('tunnels').columns(['opened_by', 'opened_at']).execute();
      await db.schema.createIndex('tunnels_state').on('tunnels').column('state').execute();

      await db.schema
        .createTable('tunnel_tickets')
        .addColumn('ticket_hash', 'text', (c) => c.primaryKey())
        .addColumn('tunnel_id', 'text', (c) => c.notNull().references('tunnels.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema.createIndex('tunnel_tickets_expiry').on('tunnel_tickets').column('expires_at').execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
};
