import { Alert, Button, Group, Loader, Select, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useMemo } from 'react';
import { DEVICE_STATUSES, type DeviceStatus } from '#contract/common';
import { DEVICE_MODEL_IDS, DEVICE_MODELS, isDeviceModelId } from '#contract/device-models';
import { FleetGrid } from '../components/FleetGrid.tsx';
import { SearchIcon } from '../components/icons.tsx';
import { useFleet, useSession } from '../stores/context.ts';

const STATUS_LABELS: Record<DeviceStatus, string> = { online: 'Online', offline: 'Offline', missing: 'Missing' };
const STATUS_COLORS: Record<DeviceStatus, string> = { online: 'teal', offline: 'gray', missing: 'red' };
const STATUS_OPTIONS = DEVICE_STATUSES.map((value) => ({ value, label: value }));
const MODEL_OPTIONS = DEVICE_MODEL_IDS.map((id) => ({ value: id, label: DEVICE_MODELS[id].name }));

const isStatus = (value: string | null): value is DeviceStatus => value !== null && (DEVICE_STATUSES as readonly string[]).includes(value);

/** Counts per status as buttons that toggle the status filter; re-render alone when counts move. */
function StatusToggles() {
  const counts = useFleet((s) => s.counts);
  const status = useFleet((s) => s.filter.status);
  const setFilter = useFleet((s) => s.setFilter);
  return (
    <Group gap={4}>
      {DEVICE_STATUSES.map((value) => {
        const active = status === value;
        return (
          <Button
            key={value}
            variant={active ? 'filled' : 'default'}
            color={STATUS_COLORS[value]}
            aria-pressed={active}
            onClick={() => setFilter({ status: active ? null : value })}
            className="status-toggle"
          >
            {STATUS_LABELS[value]} {counts[value]}
          </Button>
        );
      })}
    </Group>
  );
}

/** "12 of 10,000 devices". */
function FleetSummary() {
  const ready = useFleet((s) => s.phase === 'ready');
  const shown = useFleet((s) => s.visibleIds.length);
  const total = useFleet((s) => s.ids.length);
  return (
    <Text size="xs" c="dimmed" className="toolbar__summary" aria-live="polite">
      {ready ? `${shown.toLocaleString()} of ${total.toLocaleString()} devices` : ''}
    </Text>
  );
}

/** The whole fleet: search, filters, counts per status, and the device grid. */
export function FleetScreen() {
  const phase = useFleet((s) => s.phase);
  const error = useFleet((s) => s.error);
  const load = useFleet((s) => s.load);
  const filter = useFleet((s) => s.filter);
  const setFilter = useFleet((s) => s.setFilter);
  const loadedNone = useFleet((s) => s.ids.length === 0);
  const customers = useFleet((s) => s.customers);
  const openDevice = useSession((s) => s.openDevice);

  useEffect(() => {
    if (phase === 'idle') void load();
  }, [phase, load]);

  const customerOptions = useMemo(
    () => [...customers].sort((a, b) => a.name.localeCompare(b.name)).map((c) => ({ value: c.id, label: c.name })),
    [customers],
  );

  return (
    <main className="app-main fleet-screen">
      <div className="toolbar">
        <Title order={1} className="toolbar__title">
          Fleet
        </Title>
        <TextInput
          aria-label="Search devices"
          placeholder="Search serial, name, site, customer"
          leftSection={<SearchIcon size={13} />}
          value={filter.search}
          onChange={(e) => setFilter({ search: e.currentTarget.value })}
          className="toolbar__search"
        />
        <Select aria-label="Status" placeholder="Any status" data={STATUS_OPTIONS} value={filter.status} onChange={(v) => setFilter({ status: isStatus(v) ? v : null })} clearable w={130} />
        <Select
          aria-label="Model"
          placeholder="Any model"
          data={MODEL_OPTIONS}
          value={filter.model}
          onChange={(v) => setFilter({ model: v && isDeviceModelId(v) ? v : null })}
          clearable
          w={230}
          comboboxProps={{ width: 320, position: 'bottom-start' }}
        />
        <Select
          aria-label="Customer"
          placeholder="Any customer"
          data={customerOptions}
          value={filter.customerId}
          onChange={(v) => setFilter({ customerId: v })}
          clearable
          searchable
          w={200}
        />
        <StatusToggles />
        <FleetSummary />
      </div>
      {phase === 'error' && (
        <Alert color="red" title="The fleet could not be loaded" mx="md" mb="sm">
          <Group gap="sm">
            <span>{error}</span>
            <Button variant="light" color="red" onClick={() => void load()}>
              Try again
            </Button>
          </Group>
        </Alert>
      )}
      <div className="fleet-screen__grid">
        <FleetGrid onOpen={openDevice} />
        {phase === 'loading' && loadedNone && (
          <Group className="fleet-screen__loading" gap="xs">
            <Loader size="xs" />
            <Text size="xs" c="dimmed">
              Loading the fleet…
            </Text>
          </Group>
        )}
      </div>
    </main>
  );
}
