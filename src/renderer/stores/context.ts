import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { TetherBridge } from '#contract/ipc';
import type { AppStores } from './app-stores.ts';
import type { DeviceStoreState } from './device-store.ts';
import type { DiagnosticsStoreState } from './diagnostics-store.ts';
import type { FilesStoreState } from './files-store.ts';
import type { FleetStoreState } from './fleet-store.ts';
import type { OperatorStoreState } from './operator-store.ts';
import type { PreflightStoreState } from './preflight-store.ts';
import type { ServiceSessionStoreState } from './service-session-store.ts';
import type { SessionStoreState } from './session-store.ts';
import type { TransfersStoreState } from './transfers-store.ts';
import type { TunnelsStoreState } from './tunnels-store.ts';

/** The stores of this window, provided once by main.tsx. */
export const StoresContext = createContext<AppStores | null>(null);

function useStores(): AppStores {
  const stores = useContext(StoresContext);
  if (!stores) throw new Error('StoresContext is missing: render inside <StoresContext value={…}>');
  return stores;
}

/** The bridge, for calls that do not belong to a store (profiles, simulator faults). */
export function useBridge(): TetherBridge {
  return useStores().bridge;
}

/** A slice of the session store; re-renders only when the slice changes. */
export function useSession<T>(selector: (state: SessionStoreState) => T): T {
  return useStore(useStores().session, selector);
}

/** A slice of the fleet store; re-renders only when the slice changes. */
export function useFleet<T>(selector: (state: FleetStoreState) => T): T {
  return useStore(useStores().fleet, selector);
}

/** A slice of the device store; re-renders only when the slice changes. */
export function useDevice<T>(selector: (state: DeviceStoreState) => T): T {
  return useStore(useStores().device, selector);
}

/** A slice of the service session store (the open device's sessions); re-renders only when the slice changes. */
export function useServiceSessions<T>(selector: (state: ServiceSessionStoreState) => T): T {
  return useStore(useStores().serviceSessions, selector);
}

/** A slice of the diagnostics store; re-renders only when the slice changes. */
export function useDiagnostics<T>(selector: (state: DiagnosticsStoreState) => T): T {
  return useStore(useStores().diagnostics, selector);
}

/** A slice of the simulated operator's view (the device panel); re-renders only when the slice changes. */
export function useOperator<T>(selector: (state: OperatorStoreState) => T): T {
  return useStore(useStores().operator, selector);
}

/** A slice of the transfers store (every transfer of this console); re-renders only when the slice changes. */
export function useTransfers<T>(selector: (state: TransfersStoreState) => T): T {
  return useStore(useStores().transfers, selector);
}

/** A slice of the remote file browser of the open device; re-renders only when the slice changes. */
export function useFiles<T>(selector: (state: FilesStoreState) => T): T {
  return useStore(useStores().files, selector);
}

/** A slice of the Pre-flight screen's store; re-renders only when the slice changes. */
export function usePreflight<T>(selector: (state: PreflightStoreState) => T): T {
  return useStore(useStores().preflight, selector);
}

/** A slice of this console's tunnels (the Tunnels tab and drawer); re-renders only when the slice changes. */
export function useTunnels<T>(selector: (state: TunnelsStoreState) => T): T {
  return useStore(useStores().tunnels, selector);
}
