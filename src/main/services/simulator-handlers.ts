import type { HandlerSlice } from '../dispatch.ts';
import type { SimulatorSupervisor } from './simulator.ts';

/** The bundled simulator: its status, faults injected into a simulated device, and that device's operator (consent, revocation). */
export function simulatorHandlers(simulator: SimulatorSupervisor): HandlerSlice<'simulator.'> {
  return {
    'simulator.status': () => simulator.status(),
    'simulator.injectFault': async ({ serial, fault }) => {
      await simulator.injectFault(serial, fault);
      return {};
    },
    'simulator.clearFaults': async ({ serial }) => {
      await simulator.clearFaults(serial);
      return {};
    },
    'simulator.operatorState': async ({ serial }) => simulator.operatorState(serial),
    'simulator.decideConsent': async ({ serial, sessionId, approve, operator }) => {
      await simulator.decideConsent(serial, sessionId, approve, operator);
      return {};
    },
    'simulator.revokeSession': async ({ serial, sessionId, operator }) => {
      await simulator.revokeSession(serial, sessionId, operator);
      return {};
    },
  };
}
