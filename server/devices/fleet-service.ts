import { randomBytes, randomUUID } from 'node:crypto';
import { type ExpressionBuilder, type SelectQueryBuilder, type Transaction, sql } from 'kysely';
import { type z } from 'zod';
import { TetherError } from '#contract/errors';
import { DEVICE_MODELS } from '#contract/device-models';
import type {
  Alarm,
  CreateCustomerRequestSchema,
  CreateDeviceRequestSchema,
  CreateSiteRequestSchema,
  Customer,
  DeviceDetail,
  DeviceEvent,
  DeviceListQuerySchema,
  DeviceListResponse,
  HistoryResponse,
  Site,
} from '#contract/api/fleet';
import type { DataValue } from '#contract/common';
import type { ServerContext } from '../context.ts';
import { type Principal, inScope, scopeFilter } from '../access/principal.ts';
import type { AdminActor } from '../users/users-service.ts';
import { hashOpaqueToken } from '../auth/tokens.ts';
import type { Database, DeviceRow } from '../store/schema.ts';
import { publishLive } from '../live/publish.ts';
import { type DeviceSummaryRow, isoOf, toAlarm, toDataItemValue, toDeviceEvent, toDeviceSummary } from './views.ts';

type DeviceQuery = SelectQueryBuilder<Database, 'devices' | 'customers' | 'sites', DeviceSummaryRow>;

/** Device rows joined with names and open-alarm counts, the shape lists and details share. */
function devicesWithNames(ctx: ServerContext): DeviceQuery {
  return ctx.db
    .selectFrom('devices')
    .innerJoin('customers', 'customers.id', 'devices.customer_id')
    .innerJoin('sites', 'sites.id', 'devices.site_id')
    .selectAll('devices')
    .select((eb: ExpressionBuilder<Database, 'devices'>) => [
      sql<string>`customers.name`.as('customer_name'),
      sql<string>`sites.name`.as('site_name'),
      eb
        .selectFrom('alarms')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('alarms.device_id', '=', 'devices.id')
        .where('alarms.state', '!=', 'closed')
        .as('open_alarms'),
    ]) as unknown as DeviceQuery;
}

const ENROLLMENT_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A one-time enrollment code: 16 unambiguous characters (80 bits) in groups of four. */
function newEnrollmentCode(): string {
  const bytes = randomBytes(16);
  let code = '';
  for (let i = 0; i < 16; i += 1) {
    if (i > 0 && i % 4 === 0) code += '-';
    code += ENROLLMENT_ALPHABET[(bytes[i] ?? 0) % ENROLLMENT_ALPHABET.length];
  }
  return code;
}

/** Normalises what a person typed (case, spaces) before hashing an enrollment code. */
export function normaliseEnrollmentCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

/**
 * Customers, sites and devices as technicians see them: every read filtered by the
 * caller's scope, every id outside it answered as not found.
 */
export class FleetService {
  constructor(private readonly ctx: ServerContext) {}

  async listCustomers(principal: Principal): Promise<Customer[]> {
    let q = this.ctx.db.selectFrom('customers').selectAll().orderBy('name');
    const scope = scopeFilter(principal);
    if (scope) q = q.where('id', 'in', scope.length ? scope : ['']);
    return (await q.execute()).map((c) => ({ id: c.id, name: c.name, region: c.region as Customer['region'], country: c.country }));
  }

  async listSites(principal: Principal, customerId?: string): Promise<Site[]> {
    let q = this.ctx.db.selectFrom('sites').selectAll().orderBy('name');
    const scope = scopeFilter(principal);
    if (scope) q = q.where('customer_id', 'in', scope.length ? scope : ['']);
    if (customerId) q = q.where('customer_id', '=', customerId);
    return (await q.execute()).map((s) => ({
      id: s.id,
      customerId: s.customer_id,
      name: s.name,
      city: s.city,
      country: s.country,
      timezone: s.timezone,
    }));
  }

  async listDevices(principal: Principal, query: z.output<typeof DeviceListQuerySchema>): Promise<DeviceListResponse> {
    let filtered = devicesWithNames(this.ctx);
    const scope = scopeFilter(principal);
    if (scope) filtered = filtered.where('devices.customer_id', 'in', scope.length ? scope : ['']);
    if (query.customerId) filtered = filtered.where('devices.customer_id', '=', query.customerId);
    if (query.siteId) filtered = filtered.where('devices.site_id', '=', query.siteId);
    if (query.model) filtered = filtered.where('devices.model_id', '=', query.model);
    if (query.q) {
      const like = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      filtered = filtered.where((eb) =>
        eb.or([
          sql<boolean>`devices.serial like ${like} escape '\\'`,
          sql<boolean>`devices.name like ${like} escape '\\'`,
          sql<boolean>`sites.name like ${like} escape '\\'`,
          sql<boolean>`customers.name like ${like} escape '\\'`,
        ]),
      );
    }
    const countRows = await filtered
      .clearSelect()
      .select(['devices.status', sql<number>`count(*)`.as('n')])
      .groupBy('devices.status')
      .execute() as unknown as { status: DeviceRow['status']; n: number }[];
    const counts = { online: 0, offline: 0, missing: 0 };
    for (const row of countRows) counts[row.status] = Number(row.n);
    const listed = query.status ? filtered.where('devices.status', '=', query.status) : filtered;
    const total = query.status ? counts[query.status] : counts.online + counts.offline + counts.missing;
    const rows = await listed.orderBy('devices.serial').limit(query.limit).offset(query.offset).execute();
    return { items: rows.map(toDeviceSummary), total, counts };
  }

  /** The device row if it exists and is in scope; NOT_FOUND otherwise (no leak of existence). */
  async requireDevice(principal: Principal, deviceId: string): Promise<DeviceRow> {
    const row = await this.ctx.db.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirst();
    if (!row || !inScope(principal, row.customer_id)) throw deviceNotFound(deviceId);
    return row;
  }

  async getDevice(principal: Principal, deviceId: string): Promise<DeviceDetail> {
    const row = await devicesWithNames(this.ctx).where('devices.id', '=', deviceId).executeTakeFirst();
    if (!row || !inScope(principal, row.customer_id)) throw deviceNotFound(deviceId);
    const [items, alarms] = await Promise.all([
      this.ctx.db.selectFrom('data_items').selectAll().where('device_id', '=', deviceId).orderBy('key').execute(),
      this.ctx.db.selectFrom('alarms').selectAll().where('device_id', '=', deviceId).where('state', '!=', 'closed').orderBy('last_at', 'desc').execute(),
    ]);
    return {
      ...toDeviceSummary(row),
      enrolledAt: row.enrolled_at === null ? null : isoOf(row.enrolled_at),
      dataItems: items.map(toDataItemValue),
      alarms: alarms.map(toAlarm),
    };
  }

  async history(principal: Principal, deviceId: string, key: string, query: { since?: string | undefined; limit: number }): Promise<HistoryResponse> {
    await this.requireDevice(principal, deviceId);
    let q = this.ctx.db.selectFrom('data_item_history').select(['value', 'at']).where('device_id', '=', deviceId).where('key', '=', key);
    if (query.since) q = q.where('at', '>=', Date.parse(query.since));
    const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return {
      key,
      points: rows.reverse().map((r) => ({ at: isoOf(r.at), value: JSON.parse(r.value) as DataValue })),
    };
  }

  async events(principal: Principal, deviceId: string, query: { before?: number | undefined; limit: number }): Promise<DeviceEvent[]> {
    await this.requireDevice(principal, deviceId);
    let q = this.ctx.db.selectFrom('device_events').selectAll().where('device_id', '=', deviceId);
    if (query.before) q = q.where('id', '<', query.before);
    return (await q.orderBy('id', 'desc').limit(query.limit).execute()).map(toDeviceEvent);
  }

  async alarms(principal: Principal, deviceId: string, query: { state: string; limit: number }): Promise<Alarm[]> {
    await this.requireDevice(principal, deviceId);
    let q = this.ctx.db.selectFrom('alarms').selectAll().where('device_id', '=', deviceId);
    if (query.state === 'open') q = q.where('state', '!=', 'closed');
    else if (query.state !== 'all') q = q.where('state', '=', query.state as 'active');
    return (await q.orderBy('last_at', 'desc').limit(query.limit).execute()).map(toAlarm);
  }

  /** active → acknowledged, by a technician with the right in scope; audited. */
  async acknowledgeAlarm(principal: Principal, alarmId: string, ip: string | null): Promise<Alarm> {
    const { db, audit, bus } = this.ctx;
    const now = Date.now();
    const result = await db.transaction().execute(async (trx) => {
      const alarm = await trx
        .selectFrom('alarms')
        .innerJoin('devices', 'devices.id', 'alarms.device_id')
        .selectAll('alarms')
        .select('devices.customer_id')
        .where('alarms.id', '=', alarmId)
        .executeTakeFirst();
      if (!alarm || !inScope(principal, alarm.customer_id)) throw new TetherError('NOT_FOUND', `no alarm ${alarmId}`);
      if (alarm.state === 'closed') throw new TetherError('CONFLICT', 'this alarm is already closed');
      if (alarm.state === 'acknowledged') return { alarm, changed: false };
      await trx
        .updateTable('alarms')
        .set({ state: 'acknowledged', acknowledged_by: principal.username, acknowledged_at: now })
        .where('id', '=', alarmId)
        .execute();
      await audit.appendIn(trx, {
        actorType: 'user',
        actorId: principal.id,
        actorName: principal.username,
        action: 'alarm.acknowledge',
        targetType: 'device',
        targetId: alarm.device_id,
        outcome: 'ok',
        ip,
        detail: { alarmId, code: alarm.code },
      });
      const updated = await trx.selectFrom('alarms').selectAll().where('id', '=', alarmId).executeTakeFirstOrThrow();
      return { alarm: { ...updated, customer_id: alarm.customer_id }, changed: true };
    });
    const view = toAlarm(result.alarm);
    if (result.changed) publishLive(bus, result.alarm.customer_id, { type: 'device.alarm', deviceId: view.deviceId, alarm: view });
    return view;
  }

  async createCustomer(input: z.output<typeof CreateCustomerRequestSchema>, actor: AdminActor): Promise<Customer> {
    const id = randomUUID();
    await this.ctx.db.transaction().execute(async (trx) => {
      await trx.insertInto('customers').values({ id, name: input.name, region: input.region, country: input.country.toUpperCase(), created_at: Date.now() }).execute();
      await this.ctx.audit.appendIn(trx, { ...actor, action: 'admin.customer.create', outcome: 'ok', targetType: 'customer', targetId: id, detail: { name: input.name } });
    });
    return { id, name: input.name, region: input.region, country: input.country.toUpperCase() };
  }

  async createSite(input: z.output<typeof CreateSiteRequestSchema>, actor: AdminActor): Promise<Site> {
    const id = randomUUID();
    await this.ctx.db.transaction().execute(async (trx) => {
      const customer = await trx.selectFrom('customers').select('id').where('id', '=', input.customerId).executeTakeFirst();
      if (!customer) throw new TetherError('NOT_FOUND', `no customer ${input.customerId}`);
      await trx
        .insertInto('sites')
        .values({ id, customer_id: input.customerId, name: input.name, city: input.city, country: input.country.toUpperCase(), timezone: input.timezone, created_at: Date.now() })
        .execute();
      await this.ctx.audit.appendIn(trx, { ...actor, action: 'admin.site.create', outcome: 'ok', targetType: 'site', targetId: id, detail: { name: input.name, customerId: input.customerId } });
    });
    return { id, customerId: input.customerId, name: input.name, city: input.city, country: input.country.toUpperCase(), timezone: input.timezone };
  }

  /** Registers a device and returns its first one-time enrollment code. */
  async createDevice(
    input: z.output<typeof CreateDeviceRequestSchema>,
    actor: AdminActor,
  ): Promise<{ deviceId: string; enrollmentCode: string; expiresAt: string }> {
    const id = randomUUID();
    const now = Date.now();
    return this.ctx.db.transaction().execute(async (trx) => {
      const site = await trx.selectFrom('sites').select(['id', 'customer_id']).where('id', '=', input.siteId).executeTakeFirst();
      if (!site) throw new TetherError('NOT_FOUND', `no site ${input.siteId}`);
      const clash = await trx.selectFrom('devices').select('id').where('serial', '=', input.serial).executeTakeFirst();
      if (clash) throw new TetherError('CONFLICT', `a device with serial ${input.serial} already exists`);
      await trx
        .insertInto('devices')
        .values({
          id,
          serial: input.serial,
          name: input.name ?? `${DEVICE_MODELS[input.modelId].name.replace(/^MEDRAD /, '')} ${input.serial}`,
          model_id: input.modelId,
          site_id: site.id,
          customer_id: site.customer_id,
          status: 'offline',
          status_changed_at: now,
          last_contact_at: null,
          enrolled_at: null,
          cert_fingerprint: null,
          secret_hash: null,
          software_version: null,
          agent_version: null,
          agent_boot_id: null,
          created_at: now,
        })
        .execute();
      await this.ctx.audit.appendIn(trx, { ...actor, action: 'admin.device.create', outcome: 'ok', targetType: 'device', targetId: id, detail: { serial: input.serial, modelId: input.modelId, siteId: input.siteId } });
      const code = await this.insertEnrollmentCode(trx, id, actor, now);
      return { deviceId: id, ...code };
    });
  }

  /** A fresh one-time enrollment code for a device (earlier unused codes stay valid until they expire). */
  async issueEnrollmentCode(deviceId: string, actor: AdminActor): Promise<{ deviceId: string; enrollmentCode: string; expiresAt: string }> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const device = await trx.selectFrom('devices').select('id').where('id', '=', deviceId).executeTakeFirst();
      if (!device) throw deviceNotFound(deviceId);
      return { deviceId, ...(await this.insertEnrollmentCode(trx, deviceId, actor, Date.now())) };
    });
  }

  private async insertEnrollmentCode(
    trx: Transaction<Database>,
    deviceId: string,
    actor: AdminActor,
    now: number,
  ): Promise<{ enrollmentCode: string; expiresAt: string }> {
    const code = newEnrollmentCode();
    const expiresAt = now + Math.round(this.ctx.config.enrollmentCodeTtlHours * 3600_000);
    await trx
      .insertInto('enrollment_codes')
      .values({ code_hash: hashOpaqueToken(normaliseEnrollmentCode(code)), device_id: deviceId, created_by: actor.actorName ?? 'system', created_at: now, expires_at: expiresAt, used_at: null })
      .execute();
    await this.ctx.audit.appendIn(trx, { ...actor, action: 'admin.device.enrollment-code', outcome: 'ok', targetType: 'device', targetId: deviceId, detail: { expiresAt: new Date(expiresAt).toISOString() } });
    return { enrollmentCode: code, expiresAt: new Date(expiresAt).toISOString() };
  }
}

function deviceNotFound(deviceId: string): TetherError {
  return new TetherError('NOT_FOUND', `no device ${deviceId}`);
}
