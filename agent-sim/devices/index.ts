import { InfusionDevice, InjectorDevice } from './injector.ts';
import { RadimetricsDevice } from './radimetrics.ts';
import type { SimulatedDevice, SimulatedDeviceOptions } from './simulated-device.ts';

export {
  DEFAULT_SOFTWARE_VERSIONS,
  DEVICE_FAULTS,
  FAULTS_BY_KIND,
  SimulatedDevice,
  isDeviceFault,
  type DeviceFault,
  type SimulatedDeviceOptions,
  type ThresholdRule,
} from './simulated-device.ts';
export { INJECTOR_PROFILES, InfusionDevice, InjectorDevice, type InjectorModelId, type InjectorProfile } from './injector.ts';
export { RadimetricsDevice } from './radimetrics.ts';
export { DEVICE_FILES_FOLDER } from './file-tree.ts';

/**
 * Simulated equipment of the given model — the one entry point the agent, the fleet and
 * the offline simulator use, so none of them needs to know which class simulates what.
 */
export function createSimulatedDevice(options: SimulatedDeviceOptions): SimulatedDevice {
  const { modelId } = options;
  switch (modelId) {
    case 'stellant-flex':
    case 'mrxperion':
    case 'mark7-arterion':
      return new InjectorDevice({ ...options, modelId });
    case 'intego':
      return new InfusionDevice({ ...options, modelId });
    case 'radimetrics':
      return new RadimetricsDevice({ ...options, modelId });
  }
}
