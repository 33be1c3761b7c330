import type { TetherBridge } from '../../shared/ipc.ts';
import { describeError } from '../lib/error-messages.ts';
import { type DeviceStore, type DeviceStoreHooks, createDeviceStore } from './device-store.ts';
import { type FleetStore, createFleetStore } from './fleet-store.ts';
import { type SessionStore, createSessionStore } from './session-store.ts';

/** Every store of the renderer, built over one bridge. */
export interface AppStores {
  bridge: TetherBridge;
  session: SessionStore;
  fleet: FleetStore;
  device: DeviceStore;
}

/** Builds the stores; signing out (or losing the session) clears the fleet and device data. */
export function createAppStores(bridge: TetherBridge, deviceHooks: DeviceStoreHooks = {}): AppStores {
  const fleet = createFleetStore(bridge);
  const device = createDeviceStore(bridge, deviceHooks);
  const session = createSessionStore(bridge, {
    onSignedOut: () => {
      fleet.getState().reset();
      device.getState().close();
    },
  });
  return { bridge, session, fleet, device };
}

/**
 * Routes main's events into the stores: connection and simulator state, the end of a
 * session, and live device events. After a reconnect the fleet and the open device are
 * loaded again, since events may have been missed while the link was down.
 */
export function wireBridgeEvents({ bridge, session, fleet, device }: AppStores): () => void {
  const unsubscribe = [
    bridge.on('connection.state', (state) => {
      session.getState().connectionChanged(state);
      if (!state.resumed) return;
      if (fleet.getState().phase !== 'idle') void fleet.getState().load();
      void device.getState().reload();
    }),
    bridge.on('session.ended', ({ code, message }) => {
      session.getState().sessionEnded(describeError(code ? { code, message } : new Error(message)));
    }),
    bridge.on('simulator.status', (status) => session.getState().simulatorChanged(status)),
    bridge.on('live.event', (event) => {
      fleet.getState().receive(event);
      device.getState().receive(event);
    }),
  ];
  return () => {
    for (const off of unsubscribe) off();
  };
}
