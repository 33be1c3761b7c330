import { Alert, Badge, Button, Group, Loader, Tabs, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { ArrowLeftIcon } from '../components/icons.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { useDevice, useDiagnostics, useFiles, useOperator, useServiceSessions, useSession } from '../stores/context.ts';
import { AlarmsTab } from './device/AlarmsTab.tsx';
import { CommandsTab } from './device/CommandsTab.tsx';
import { DataTab } from './device/DataTab.tsx';
import { DevicePanelTab } from './device/DevicePanelTab.tsx';
import { DeviceOverview } from './device/DeviceOverview.tsx';
import { DiagnosticsTab } from './device/DiagnosticsTab.tsx';
import { EventsTab } from './device/EventsTab.tsx';
import { FilesTab } from './device/FilesTab.tsx';
import { SessionBar } from './device/SessionBar.tsx';
import { SessionsTab } from './device/SessionsTab.tsx';
import { TunnelsTab } from './device/TunnelsTab.tsx';
import './DeviceScreen.css';

/** Whether a key press belongs to a text field or an open list rather than to the screen. */
function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

/** A count beside a tab's name, or nothing; hidden from its accessible name (the panel says it in words). */
function tabCount(count: number, color: string) {
  if (count === 0) return null;
  return (
    <Badge size="xs" color={color} variant="filled" circle aria-hidden="true">
      {count}
    </Badge>
  );
}

/**
 * One device: overview and its service session bar, then its data, diagnostics, files, tunnels,
 * alarms, events, commands and sessions (and, offline, the simulated device's panel).
 */
export function DeviceScreen({ deviceId }: { deviceId: string }) {
  const open = useDevice((s) => s.open);
  const close = useDevice((s) => s.close);
  const detail = useDevice((s) => s.detail);
  const error = useDevice((s) => s.error);
  const alarmCount = useDevice((s) => s.alarms.length);
  const openFleet = useSession((s) => s.openFleet);
  const simulatorProfile = useSession((s) => (s.session?.signedIn ? s.session.profile.kind === 'simulator' : false));
  const openSessions = useServiceSessions((s) => s.open);
  const closeSessions = useServiceSessions((s) => s.close);
  const openDiagnostics = useDiagnostics((s) => s.open);
  const closeDiagnostics = useDiagnostics((s) => s.close);
  const closeFiles = useFiles((s) => s.close);
  const openOperator = useOperator((s) => s.open);
  const closeOperator = useOperator((s) => s.close);
  const consentQuestions = useOperator((s) => s.state?.consents.length ?? 0);
  const [tab, setTab] = useState<string | null>('data');
  const serial = detail?.serial;

  useEffect(() => {
    void open(deviceId);
    void openSessions(deviceId);
    void openDiagnostics(deviceId);
    return () => {
      close();
      closeSessions();
      closeDiagnostics();
      closeFiles();
    };
  }, [deviceId, open, close, openSessions, closeSessions, openDiagnostics, closeDiagnostics, closeFiles]);

  // the simulated operator is found by serial, known once the detail has loaded
  useEffect(() => {
    if (!simulatorProfile || !serial) return;
    void openOperator(serial);
    return () => closeOperator();
  }, [simulatorProfile, serial, openOperator, closeOperator]);

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
          <SessionBar detail={detail} onOpenDevicePanel={simulatorProfile ? () => setTab('device-panel') : undefined} />
          <Tabs value={tab} onChange={setTab} className="device-tabs">
            <Tabs.List>
              <Tabs.Tab value="data">Data</Tabs.Tab>
              <Tabs.Tab value="diagnostics">Diagnostics</Tabs.Tab>
              <Tabs.Tab value="files">Files</Tabs.Tab>
              <Tabs.Tab value="tunnels">Tunnels</Tabs.Tab>
              <Tabs.Tab value="alarms" rightSection={tabCount(alarmCount, 'red')}>
                Alarms
              </Tabs.Tab>
              <Tabs.Tab value="events">Events</Tabs.Tab>
              <Tabs.Tab value="commands">Commands</Tabs.Tab>
              <Tabs.Tab value="sessions">Sessions</Tabs.Tab>
              {simulatorProfile && (
                <Tabs.Tab value="device-panel" rightSection={tabCount(consentQuestions, 'yellow')}>
                  Device panel
                </Tabs.Tab>
              )}
            </Tabs.List>
            <Tabs.Panel value="data" className="device-tabs__panel">
              <DataTab detail={detail} />
            </Tabs.Panel>
            <Tabs.Panel value="diagnostics" className="device-tabs__panel">
              <DiagnosticsTab detail={detail} />
            </Tabs.Panel>
            <Tabs.Panel value="files" className="device-tabs__panel">
              {tab === 'files' && <FilesTab detail={detail} />}
            </Tabs.Panel>
            <Tabs.Panel value="tunnels" className="device-tabs__panel">
              {tab === 'tunnels' && <TunnelsTab detail={detail} />}
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
            <Tabs.Panel value="sessions" className="device-tabs__panel">
              <SessionsTab />
            </Tabs.Panel>
            {simulatorProfile && (
              <Tabs.Panel value="device-panel" className="device-tabs__panel">
                <DevicePanelTab detail={detail} />
              </Tabs.Panel>
            )}
          </Tabs>
        </div>
      )}
    </main>
  );
}
