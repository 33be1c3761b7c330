import { DEVICE_MODELS, type DeviceModelId } from '#contract/device-models';

/** A simulated hospital group, as the seed's regions (US, UK, Australia, Japan). */
export interface PlannedCustomer {
  name: string;
  region: 'us' | 'uk' | 'au' | 'jp';
  country: string;
  sites: { name: string; city: string; timezone: string }[];
}

export const SIM_CUSTOMERS: readonly PlannedCustomer[] = [
  {
    name: 'Allegheny Valley Medical Center',
    region: 'us',
    country: 'US',
    sites: [
      { name: 'Main Campus Radiology', city: 'Pittsburgh', timezone: 'America/New_York' },
      { name: 'Cardiac Cath Lab', city: 'Pittsburgh', timezone: 'America/New_York' },
      { name: 'Outpatient Imaging Center', city: 'Monroeville', timezone: 'America/New_York' },
    ],
  },
  {
    name: 'Lakeshore Health System',
    region: 'us',
    country: 'US',
    sites: [
      { name: 'Lakeshore General CT Suite', city: 'Chicago', timezone: 'America/Chicago' },
      { name: 'Lakeshore North Imaging', city: 'Evanston', timezone: 'America/Chicago' },
    ],
  },
  {
    name: 'Royal Thames NHS Foundation Trust',
    region: 'uk',
    country: 'GB',
    sites: [
      { name: "St Aldric's Hospital Imaging", city: 'London', timezone: 'Europe/London' },
      { name: 'Thames Diagnostic Centre', city: 'Reading', timezone: 'Europe/London' },
    ],
  },
  {
    name: 'Harbourside Health',
    region: 'au',
    country: 'AU',
    sites: [
      { name: 'Harbourside Hospital Radiology', city: 'Sydney', timezone: 'Australia/Sydney' },
      { name: 'Parramatta Imaging', city: 'Parramatta', timezone: 'Australia/Sydney' },
    ],
  },
  {
    name: 'Sakura Medical Corporation',
    region: 'jp',
    country: 'JP',
    sites: [
      { name: 'Sakura General Hospital', city: 'Osaka', timezone: 'Asia/Tokyo' },
      { name: 'Kobe Imaging Clinic', city: 'Kobe', timezone: 'Asia/Tokyo' },
    ],
  },
];

/** One device of the planned fleet. */
export interface PlannedDevice {
  serial: string;
  modelId: DeviceModelId;
  customerIndex: number;
  siteIndex: number;
}

/** How often each model appears: injectors dominate, one dose server per site or so. */
const MODEL_CYCLE: readonly DeviceModelId[] = [
  'stellant-flex', 'mrxperion', 'stellant-flex', 'mark7-arterion', 'stellant-flex',
  'intego', 'stellant-flex', 'mrxperion', 'radimetrics', 'mark7-arterion',
];

/**
 * Deterministic fleet layout for `n` devices: spread round-robin over every site of every
 * customer, models in a fixed realistic mix (10 models in the cycle, 11 sites: coprime, so
 * every site gets a mix), serials unique and stable (device i always
 * gets the same serial, so a persistent simulator grows its fleet without renaming).
 */
export function planFleet(n: number): PlannedDevice[] {
  const sites = SIM_CUSTOMERS.flatMap((c, customerIndex) => c.sites.map((_, siteIndex) => ({ customerIndex, siteIndex })));
  const devices: PlannedDevice[] = [];
  for (let i = 0; i < n; i += 1) {
    const site = sites[i % sites.length]!;
    const modelId = MODEL_CYCLE[i % MODEL_CYCLE.length]!;
    const region = SIM_CUSTOMERS[site.customerIndex]!.region.toUpperCase();
    devices.push({
      serial: `${DEVICE_MODELS[modelId].serialPrefix}-${region}${String(i + 1).padStart(5, '0')}`,
      modelId,
      customerIndex: site.customerIndex,
      siteIndex: site.siteIndex,
    });
  }
  return devices;
}
