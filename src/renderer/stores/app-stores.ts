import type { TetherBridge } from '#contract/ipc';
import { describeError } from '../lib/error-messages.ts';
import { type DeviceStore, type DeviceStoreHooks, createDeviceStore } from './device-store.ts';
import { type DiagnosticsStore, createDiagnosticsStore } from './diagnostics-store.ts';
import { type FilesStore, createFilesStore, parentOf } from './files-store.ts';
import { type FleetStore, createFleetStore } from './fleet-store.ts';
import { type OperatorStore, createOperatorStore } from './operator-store.ts';
import { type PreflightStore, createPreflightStore } from './preflight-store.ts';
import type { SessionNotice } from './service-session-reducers.ts';
import { type ServiceSessionStore, createServiceSessionStore } from './service-session-store.ts';
import { type SessionStore, createSessionStore } from './session-store.ts';
import type { TransferNotice } from './transfer-reducers.ts';
import { type TransfersStore, createTransfersStore } from './transfers-store.ts';
import { type TunnelsStore, createTunnelsStore } from './tunnels-store.ts';
import type { TransferItem } from '#contract/ipc';

/** Every store of the renderer, built over one bridge. */
export interface AppStores {
  bridge: TetherBridge;
  session: SessionStore;
  fleet: FleetStore;
  device: DeviceStore;
  serviceSessions: ServiceSessionStore;
  diagnostics: DiagnosticsStore;
  operator: OperatorStore;
  transfers: TransfersStore;
  files: FilesStore;
  preflight: PreflightStore;
  tunnels: TunnelsStore;
}

/** What the stores tell the shell (which turns it into notifications). */
export interface AppStoreHooks extends DeviceStoreHooks {
  onSessionNotice?: (notice: SessionNotice) => void;
  onTransferNotice?: (notice: TransferNotice) => void;
  /** Browser mode: a download asked for in this window is complete; the browser should save it. */
  onSaveDownload?: (item: TransferItem) => void;
}

/** Builds the stores; signing out (or losing the session) clears the fleet and device data. */
export function createAppStores(bridge: TetherBridge, hooks: AppStoreHooks = {}): AppStores {
  const fleet = createFleetStore(bridge);
  const device = createDeviceStore(bridge, hooks);
  const diagnostics = createDiagnosticsStore(bridge);
  const operator = createOperatorStore(bridge);
  const files = createFilesStore(bridge);
  const preflight = createPreflightStore(bridge);
  const tunnels = createTunnelsStore(bridge);
  const transfers = createTransfersStore(bridge, {
    onNotice: (notice) => {
      hooks.onTransferNotice?.(notice);
      // a file sent into the folder on screen shows up in it
      const { item } = notice;
      const shown = files.getState();
      if (notice.tone === 'completed' && item.direction === 'to-device' && item.deviceId === shown.deviceId && parentOf(item.devicePath) === shown.path) void shown.reload();
    },
    onSaveDownload: (item) => hooks.onSaveDownload?.(item),
  });
  const serviceSessions = createServiceSessionStore(bridge, {
    currentUserId: () => {
      const state = session.getState().session;
      return state?.signedIn ? state.user.id : null;
    },
    deviceLabel: (deviceId) => {
      const shown = device.getState().detail;
      return (shown?.id === deviceId ? shown.serial : fleet.getState().byId[deviceId]?.serial) ?? 'the device';
    },
    onNotice: (notice) => hooks.onSessionNotice?.(notice),
  });
  const session = createSessionStore(bridge, {
    onSignedOut: () => {
      fleet.getState().reset();
      device.getState().close();
      serviceSessions.getState().reset();
      diagnostics.getState().close();
      operator.getState().close();
      transfers.getState().reset();
      files.getState().close();
      tunnels.getState().reset();
    },
  });
  return { bridge, session, fleet, device, serviceSessions, diagnostics, operator, transfers, files, preflight, tunnels };
}

/**
 * Routes main's events into the stores: connection and simulator state, the end of a
 * session, live device events, the simulated operator's view, the transfer engine's, and pre-flight progress. After a reconnect the
 * fleet and the open device are loaded again, since events may have been missed while the
 * link was down.
 */
export function wireBridgeEvents({ bridge, session, fleet, device, serviceSessions, diagnostics, operator, transfers, preflight, tunnels }: AppStores): () => void {
  const unsubscribe = [
    bridge.on('connection.state', (state) => {
      session.getState().connectionChanged(state);
      if (!state.resumed) return;
      if (fleet.getState().phase !== 'idle') void fleet.getState().load();
      void device.getState().reload();
      void serviceSessions.getState().reload();
      void diagnostics.getState().reload();
      void operator.getState().reload();
      void transfers.getState().load();
      void tunnels.getState().load();
    }),
    bridge.on('transfers.changed', ({ items }) => transfers.getState().receive(items)),
    bridge.on('tunnels.changed', ({ items }) => tunnels.getState().receive(items)),
    bridge.on('preflight.progress', (event) => preflight.getState().receive(event)),
    bridge.on('session.ended', ({ code, message }) => {
      session.getState().sessionEnded(describeError(code ? { code, message } : new Error(message)));
    }),
    bridge.on('simulator.status', (status) => session.getState().simulatorChanged(status)),
    bridge.on('simulator.operator', (state) => operator.getState().receive(state)),
    bridge.on('live.event', (event) => {
      fleet.getState().receive(event);
      device.getState().receive(event);
      serviceSessions.getState().receive(event);
      diagnostics.getState().receive(event);
    }),
  ];
  return () => {
    for (const off of unsubscribe) off();
  };
}
