import { describe, expect, it } from 'vitest';
import { loadFleet } from '../../../src/renderer/stores/fleet-reducers.ts';
import { EMPTY_FILTER, deriveFleetView } from '../../../src/renderer/stores/fleet-view.ts';
import { device } from './fixtures.ts';

const fleet = loadFleet([
  device({ id: '1', serial: 'SFX-US00001', status: 'online', customerId: 'c1', customerName: 'Northwind Health', siteName: 'Radiology East' }),
  device({ id: '2', serial: 'RAD-UK00002', modelId: 'radimetrics', status: 'missing', customerId: 'c2', customerName: 'St. Mary Hospital', siteName: 'Data centre' }),
  device({ id: '3', serial: 'ITG-EU00003', modelId: 'intego', status: 'offline', customerId: 'c2', customerName: 'St. Mary Hospital', siteName: 'PET suite', name: 'Hot lab infuser' }),
  device({ id: '4', serial: 'SFX-US00004', status: 'online', customerId: 'c1', customerName: 'Northwind Health', siteName: 'Emergency CT' }),
]);
const view = (patch: Partial<typeof EMPTY_FILTER>) => deriveFleetView(fleet.ids, fleet.byId, { ...EMPTY_FILTER, ...patch });
const serials = (ids: string[]) => ids.map((id) => fleet.byId[id]!.serial);

describe('deriveFleetView', () => {
  it('shows every device, ordered by serial, without filters', () => {
    expect(serials(view({}).visibleIds)).toEqual(['ITG-EU00003', 'RAD-UK00002', 'SFX-US00001', 'SFX-US00004']);
    expect(view({}).counts).toEqual({ online: 2, offline: 1, missing: 1 });
  });

  it('searches serial, name, site and customer, ignoring case and surrounding spaces', () => {
    expect(serials(view({ search: 'sfx-us00004' }).visibleIds)).toEqual(['SFX-US00004']);
    expect(serials(view({ search: ' HOT LAB ' }).visibleIds)).toEqual(['ITG-EU00003']);
    expect(serials(view({ search: 'emergency' }).visibleIds)).toEqual(['SFX-US00004']);
    expect(serials(view({ search: 'st. mary' }).visibleIds)).toEqual(['ITG-EU00003', 'RAD-UK00002']);
    expect(view({ search: 'nothing like this' }).visibleIds).toEqual([]);
  });

  it('combines status, model and customer filters', () => {
    expect(serials(view({ status: 'online' }).visibleIds)).toEqual(['SFX-US00001', 'SFX-US00004']);
    expect(serials(view({ model: 'radimetrics' }).visibleIds)).toEqual(['RAD-UK00002']);
    expect(serials(view({ customerId: 'c2', status: 'offline' }).visibleIds)).toEqual(['ITG-EU00003']);
  });

  it('counts statuses over the other filters but not the status filter, so the toggles show what they would give', () => {
    expect(view({ status: 'online', customerId: 'c2' }).counts).toEqual({ online: 0, offline: 1, missing: 1 });
    expect(view({ status: 'missing' }).counts).toEqual({ online: 2, offline: 1, missing: 1 });
  });

  it('filters 10,000 devices quickly enough to run on every keystroke', () => {
    const big = loadFleet(Array.from({ length: 10_000 }, (_, i) => device({ id: String(i), siteName: `Site ${i % 97}` })));
    deriveFleetView(big.ids, big.byId, { ...EMPTY_FILTER, search: 'warm up' });
    const started = performance.now();
    const result = deriveFleetView(big.ids, big.byId, { ...EMPTY_FILTER, search: 'site 42' });
    expect(performance.now() - started).toBeLessThan(100);
    expect(result.visibleIds.length).toBeGreaterThan(0);
  });
});
