import type { TunnelView } from '#contract/api/tunnels';
import { isDeviceModelId, tunnelTargetOf } from '#contract/device-models';
import type { TunnelEndCause } from '#contract/tunnels';
import { iso, isoOf } from '../devices/views.ts';
import type { Db } from '../store/database.ts';
import type { TunnelRow } from '../store/schema.ts';

/** A tunnel row with the names its view shows. */
export type NamedTunnelRow = TunnelRow & { device_serial: string; model_id: string; username: string; display_name: string };

/** Tunnels joined with their device's serial and model and their opener's names. */
export function tunnelsWithNames(db: Db) {
  return db
    .selectFrom('tunnels as t')
    .innerJoin('devices as d', 'd.id', 't.device_id')
    .innerJoin('users as u', 'u.id', 't.opened_by')
    .selectAll('t')
    .select(['d.serial as device_serial', 'd.model_id', 'u.username', 'u.display_name']);
}

/** Live figures the relay holds (counters newer than the row's, connections carried now). */
export interface TunnelLiveFigures {
  bytesToDevice: number;
  bytesFromDevice: number;
  activeConnections: number;
  totalConnections: number;
}

export function toTunnelView(row: NamedTunnelRow, live?: TunnelLiveFigures): TunnelView {
  const target = isDeviceModelId(row.model_id) ? tunnelTargetOf(row.model_id, row.target_id) : undefined;
  return {
    id: row.id,
    deviceId: row.device_id,
    deviceSerial: row.device_serial,
    sessionId: row.session_id,
    targetId: row.target_id,
    targetLabel: target?.label ?? row.target_id,
    targetKind: target?.kind ?? 'tcp',
    targetPort: Number(row.target_port),
    state: row.state,
    consolePath: row.console_path,
    agentPath: row.agent_path,
    bytesToDevice: live?.bytesToDevice ?? Number(row.bytes_to_device),
    bytesFromDevice: live?.bytesFromDevice ?? Number(row.bytes_from_device),
    activeConnections: row.state === 'closed' ? 0 : (live?.activeConnections ?? 0),
    totalConnections: live?.totalConnections ?? Number(row.total_connections),
    openedBy: { id: row.opened_by, username: row.username, displayName: row.display_name },
    openedAt: isoOf(Number(row.opened_at)),
    closedAt: iso(row.closed_at),
    endCause: row.end_cause as TunnelEndCause | null,
  };
}
