import type { DeviceKind } from '#contract/device-models';
import { SIM_FAULT_LABELS, type SimFault, faultsForKind } from '#contract/sim-faults';

export { isSimFault, type SimFault } from '#contract/sim-faults';

/** The human name of a fault ("pressure-fault" → "Pressure fault"). */
export function faultLabel(fault: SimFault): string {
  return SIM_FAULT_LABELS[fault];
}

/** The faults a device of this kind can be given, as Select options. */
export function faultOptionsFor(kind: DeviceKind): { value: SimFault; label: string }[] {
  return faultsForKind(kind).map((value) => ({ value, label: SIM_FAULT_LABELS[value] }));
}
