/**
 * The equipment Tether services, from the seed document. Shared by the server (model
 * filter and names), the console (labels, units) and the simulator (what to simulate).
 * Behaviour of a simulated model lives in agent-sim/devices; this is only its identity
 * and the data items it reports.
 */

import type { TunnelTarget } from './tunnels.ts';

export type DataItemType = 'number' | 'string' | 'boolean';

export interface DataItemDefinition {
  readonly key: string;
  readonly label: string;
  readonly type: DataItemType;
  readonly unit?: string;
}

export type DeviceKind = 'injector' | 'infusion' | 'server';

export interface DeviceModel {
  readonly id: DeviceModelId;
  readonly name: string;
  readonly kind: DeviceKind;
  /** Serial-number prefix used by the simulator and enrollment forms. */
  readonly serialPrefix: string;
  readonly dataItems: readonly DataItemDefinition[];
  /** Where remote file work may happen on the device (the agent enforces it), and the largest file. */
  readonly files: DeviceFileRules;
  /** The service ports tunnels may reach (the agent enforces it); nothing else. */
  readonly tunnels: readonly TunnelTarget[];
}

export interface DeviceFileRules {
  readonly roots: readonly string[];
  readonly maxFileBytes: number;
}

const GiB = 1024 ** 3;
const DELIVERY_FILES: DeviceFileRules = { roots: ['/logs', '/config', '/service'], maxFileBytes: 8 * GiB };
const SERVER_FILES: DeviceFileRules = { roots: ['/logs', '/config', '/service', '/exports'], maxFileBytes: 64 * GiB };

const SERVICE_WEB: TunnelTarget = { id: 'service-web', label: 'Service web page', kind: 'http', port: 8080 };
const SERVICE_CONSOLE: TunnelTarget = { id: 'service-console', label: 'Service console', kind: 'console', port: 2323 };
const DELIVERY_TUNNELS: readonly TunnelTarget[] = [SERVICE_WEB, SERVICE_CONSOLE];
const SERVER_TUNNELS: readonly TunnelTarget[] = [SERVICE_WEB, SERVICE_CONSOLE, { id: 'vnc', label: 'VNC desktop', kind: 'vnc', port: 5900 }];

export const DEVICE_MODEL_IDS = [
  'stellant-flex',
  'mrxperion',
  'mark7-arterion',
  'intego',
  'radimetrics',
] as const;
export type DeviceModelId = (typeof DEVICE_MODEL_IDS)[number];

const INJECTOR_ITEMS: readonly DataItemDefinition[] = [
  { key: 'syringeA.volume', label: 'Syringe A volume', type: 'number', unit: 'mL' },
  { key: 'syringeB.volume', label: 'Syringe B volume', type: 'number', unit: 'mL' },
  { key: 'flowRate', label: 'Flow rate', type: 'number', unit: 'mL/s' },
  { key: 'pressure.limit', label: 'Pressure limit', type: 'number', unit: 'psi' },
  { key: 'pressure.peak', label: 'Peak pressure', type: 'number', unit: 'psi' },
  { key: 'battery', label: 'Battery', type: 'number', unit: '%' },
  { key: 'temperature', label: 'Temperature', type: 'number', unit: '°C' },
  { key: 'injectionCount', label: 'Injections', type: 'number' },
  { key: 'state', label: 'State', type: 'string' },
  { key: 'errorCode', label: 'Error code', type: 'string' },
];

export const DEVICE_MODELS: Readonly<Record<DeviceModelId, DeviceModel>> = {
  'stellant-flex': {
    id: 'stellant-flex',
    name: 'MEDRAD Stellant FLEX CT Injection System',
    kind: 'injector',
    serialPrefix: 'SFX',
    files: DELIVERY_FILES,
    tunnels: DELIVERY_TUNNELS,
    dataItems: INJECTOR_ITEMS,
  },
  mrxperion: {
    id: 'mrxperion',
    name: 'MEDRAD MRXperion MR Injection System',
    kind: 'injector',
    serialPrefix: 'MRX',
    files: DELIVERY_FILES,
    tunnels: DELIVERY_TUNNELS,
    dataItems: INJECTOR_ITEMS,
  },
  'mark7-arterion': {
    id: 'mark7-arterion',
    name: 'MEDRAD Mark 7 Arterion Injection System',
    kind: 'injector',
    serialPrefix: 'M7A',
    files: DELIVERY_FILES,
    tunnels: DELIVERY_TUNNELS,
    dataItems: INJECTOR_ITEMS,
  },
  intego: {
    id: 'intego',
    name: 'MEDRAD Intego PET Infusion System',
    kind: 'infusion',
    serialPrefix: 'ITG',
    files: DELIVERY_FILES,
    tunnels: DELIVERY_TUNNELS,
    dataItems: [
      { key: 'activity', label: 'Dose activity', type: 'number', unit: 'MBq' },
      { key: 'flowRate', label: 'Flow rate', type: 'number', unit: 'mL/s' },
      { key: 'shielding.temperature', label: 'Shield temperature', type: 'number', unit: '°C' },
      { key: 'battery', label: 'Battery', type: 'number', unit: '%' },
      { key: 'infusionCount', label: 'Infusions', type: 'number' },
      { key: 'state', label: 'State', type: 'string' },
      { key: 'errorCode', label: 'Error code', type: 'string' },
    ],
  },
  radimetrics: {
    id: 'radimetrics',
    name: 'Radimetrics Enterprise Platform',
    kind: 'server',
    serialPrefix: 'RAD',
    files: SERVER_FILES,
    tunnels: SERVER_TUNNELS,
    dataItems: [
      { key: 'cpu', label: 'CPU', type: 'number', unit: '%' },
      { key: 'memory', label: 'Memory', type: 'number', unit: '%' },
      { key: 'disk', label: 'Disk used', type: 'number', unit: '%' },
      { key: 'db.size', label: 'Database size', type: 'number', unit: 'GB' },
      { key: 'queue.dicom', label: 'DICOM queue', type: 'number' },
      { key: 'queue.hl7', label: 'HL7 queue', type: 'number' },
      { key: 'service.dicomListener', label: 'DICOM listener', type: 'string' },
      { key: 'service.hl7Interface', label: 'HL7 interface', type: 'string' },
      { key: 'service.database', label: 'Database service', type: 'string' },
      { key: 'service.web', label: 'Web portal', type: 'string' },
    ],
  },
};

/** The tunnel target `targetId` of a model, if the model allows it. */
export function tunnelTargetOf(modelId: DeviceModelId, targetId: string): TunnelTarget | undefined {
  return DEVICE_MODELS[modelId].tunnels.find((t) => t.id === targetId);
}

/** Narrows an untrusted string to a model id. */
export function isDeviceModelId(value: string): value is DeviceModelId {
  return (DEVICE_MODEL_IDS as readonly string[]).includes(value);
}
