import type { DeviceKind } from './device-models.ts';

/**
 * The faults the offline simulator can inject, shared by the simulator (which enforces
 * them), the contract and the console (which offers only those that apply).
 */
export const DEVICE_FAULTS = ['pressure-fault', 'low-battery', 'over-temperature', 'disk-full', 'service-down', 'queue-backlog'] as const;
export type DeviceFault = (typeof DEVICE_FAULTS)[number];

/** Faults of the agent's connection rather than of the equipment; every device can have them. */
export const AGENT_FAULTS = ['network-flap', 'agent-crash'] as const;
export type AgentFault = (typeof AGENT_FAULTS)[number];

export const SIM_FAULTS = [...DEVICE_FAULTS, ...AGENT_FAULTS] as const;
export type SimFault = (typeof SIM_FAULTS)[number];

/** Which equipment faults a kind of device can have: a server has no pressure transducer. */
export const FAULTS_BY_KIND: Readonly<Record<DeviceKind, readonly DeviceFault[]>> = {
  injector: ['pressure-fault', 'low-battery', 'over-temperature'],
  infusion: ['pressure-fault', 'low-battery', 'over-temperature'],
  server: ['disk-full', 'service-down', 'queue-backlog'],
};

export const SIM_FAULT_LABELS: Readonly<Record<SimFault, string>> = {
  'pressure-fault': 'Pressure fault',
  'low-battery': 'Low battery',
  'over-temperature': 'Over-temperature',
  'disk-full': 'Disk full',
  'service-down': 'Service down',
  'queue-backlog': 'Queue backlog',
  'network-flap': 'Network flapping',
  'agent-crash': 'Agent crash',
};

/** Every fault a device of this kind can be given: its equipment faults, then the agent faults. */
export function faultsForKind(kind: DeviceKind): SimFault[] {
  return [...FAULTS_BY_KIND[kind], ...AGENT_FAULTS];
}

export function isDeviceFault(value: string): value is DeviceFault {
  return (DEVICE_FAULTS as readonly string[]).includes(value);
}

export function isSimFault(value: string | null): value is SimFault {
  return value !== null && (SIM_FAULTS as readonly string[]).includes(value);
}
