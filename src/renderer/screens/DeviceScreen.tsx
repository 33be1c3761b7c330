import { Alert, Badge, Button, Group, Loader, Tabs, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { ArrowLeftIcon } from '../components/icons.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { useDevice, useSession } from '../stores/context.ts';
import { AlarmsTab } from './device/AlarmsTab.tsx';
import { CommandsTab } from './device/CommandsTab.tsx';
import { DataTab } from './device/DataTab.tsx';
import { DeviceOverview } from './device/DeviceOverview.tsx';
import { EventsTab } from './device/EventsTab.tsx';
import { SimulatorTab } from './device/SimulatorTab.tsx';
import './DeviceScreen.css';

/** Whether a key press belongs to a text field or an open list rather than to the screen. */
function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

/** One device: overview, then its data, alarms, events, commands (and simulator faults offline). */
export function DeviceScreen({ deviceId }: { deviceId: string }) {
  const open = useDevice((s) => s.open);
  const close = useDevice((s) => s.close);
  const detail = useDevice((s) => s.detail);
  const error = useDevice((s) => s.error);
  const alarmCount = useDevice((s) => s.alarms.length);
  const openFleet = useSession((s) => s.openFleet);
  const simulatorProfile = useSession((s) => (s.session?.signedIn ? s.session.profile.kind === 'simulator' : false));
  const [tab, setTab] = useState<string | null>('data');

  useEffect(() => {
    void open(deviceId);
    return () => close();
  }, [deviceId, open, close]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape' || event.defaultPrevented || isTyping(event.target) || document.querySelector('[role="dialog"]')) return;
      openFleet();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [openFleet]);

  return (
    <main className="app-main device-screen">
      <div className="device-screen__bar">
        <Button variant="subtle" color="gray" leftSection={<ArrowLeftIcon size={13} />} onClick={openFleet}>
          Back to fleet
        </Button>
        {detail && (
          <Group gap="xs" wrap="nowrap" className="device-screen__title">
            <Title order={1} className="toolbar__title">
              {detail.name}
            </Title>
            <StatusBadge status={detail.status} />
            {!detail.name.includes(detail.serial) && (
              <Text size="xs" c="dimmed" ff="monospace">
                {detail.serial}
              </Text>
            )}
          </Group>
        )}
      </div>
      {error && !detail && (
        <Alert color="red" title="This device could not be loaded" mx="md">
          {error}
        </Alert>
      )}
      {!detail && !error && (
        <Group gap="xs" p="md">
          <Loader size="xs" />
          <Text size="xs" c="dimmed">
            Loading the device…
          </Text>
        </Group>
      )}
      {detail && (
        <div className="device-screen__body">
          <DeviceOverview detail={detail} />
          <Tabs value={tab} onChange={setTab} className="device-tabs">
            <Tabs.List>
              <Tabs.Tab value="data">Data</Tabs.Tab>
              <Tabs.Tab
                value="alarms"
                rightSection={
                  alarmCount > 0 ? (
                    <Badge size="xs" color="red" variant="filled" circle aria-hidden="true">
                      {alarmCount}
                    </Badge>
                  ) : null
                }
              >
                Alarms
              </Tabs.Tab>
              <Tabs.Tab value="events">Events</Tabs.Tab>
              <Tabs.Tab value="commands">Commands</Tabs.Tab>
              {simulatorProfile && <Tabs.Tab value="simulator">Simulator</Tabs.Tab>}
            </Tabs.List>
            <Tabs.Panel value="data" className="device-tabs__panel">
              <DataTab detail={detail} />
            </Tabs.Panel>
            <Tabs.Panel value="alarms" className="device-tabs__panel">
              <AlarmsTab />
            </Tabs.Panel>
            <Tabs.Panel value="events" className="device-tabs__panel">
              <EventsTab />
            </Tabs.Panel>
            <Tabs.Panel value="commands" className="device-tabs__panel">
              <CommandsTab />
            </Tabs.Panel>
            {simulatorProfile && (
              <Tabs.Panel value="simulator" className="device-tabs__panel">
                <SimulatorTab detail={detail} />
              </Tabs.Panel>
            )}
          </Tabs>
        </div>
      )}
    </main>
  );
}
