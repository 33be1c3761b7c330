import { Button, Drawer, Indicator, Stack, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { openTunnels } from '../lib/tunnel-format.ts';
import { TunnelCard } from '../screens/device/TunnelsTab.tsx';
import { useTunnels } from '../stores/context.ts';
import { TunnelIcon } from './icons.tsx';

/** The header's way to the tunnels: a button with the count of those open. */
export function TunnelsButton() {
  const count = useTunnels((s) => openTunnels(s.items).length);
  const load = useTunnels((s) => s.load);
  const setOpen = useTunnels((s) => s.setDrawerOpen);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <Indicator label={count} size={16} disabled={count === 0} offset={4} aria-hidden={count === 0}>
      <Button variant="subtle" color="gray" leftSection={<TunnelIcon size={14} />} onClick={() => setOpen(true)} aria-label={count ? `Tunnels, ${count} open` : 'Tunnels'}>
        Tunnels
      </Button>
    </Indicator>
  );
}

/** Every tunnel of this console, whatever the device: the open ones with their controls, then the recently closed. */
export function TunnelsDrawer() {
  const opened = useTunnels((s) => s.drawerOpen);
  const setOpen = useTunnels((s) => s.setDrawerOpen);
  const items = useTunnels((s) => s.items);
  const error = useTunnels((s) => s.error);
  const open = openTunnels(items);
  const closed = (items ?? []).filter((i) => i.link === 'closed');
  // "retry in 4 s" counts down while shown
  const [, setTick] = useState(0);
  const reconnecting = open.some((i) => i.link === 'reconnecting');
  useEffect(() => {
    if (!opened || !reconnecting) return;
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, [opened, reconnecting]);

  return (
    <Drawer opened={opened} onClose={() => setOpen(false)} position="right" size={520} title="Tunnels" closeButtonProps={{ 'aria-label': 'Close tunnels' }}>
      <Stack gap="md">
        {error && (
          <Text size="xs" c="red">
            The tunnels could not be loaded: {error}
          </Text>
        )}
        <section aria-labelledby="tunnels-open-title">
          <Title order={2} id="tunnels-open-title" className="section-title">
            Open
          </Title>
          {open.length === 0 ? (
            <Text size="xs" c="dimmed">
              No tunnel is open. Open one from a device's Tunnels tab, inside a session with the Tunnel scope.
            </Text>
          ) : (
            <ul className="tunnel-list" aria-labelledby="tunnels-open-title">
              {open.map((item) => (
                <TunnelCard key={item.id} item={item} showDevice />
              ))}
            </ul>
          )}
        </section>
        {closed.length > 0 && (
          <section aria-labelledby="tunnels-closed-title">
            <Title order={2} id="tunnels-closed-title" className="section-title">
              Recently closed
            </Title>
            <ul className="tunnel-list" aria-labelledby="tunnels-closed-title">
              {closed.map((item) => (
                <TunnelCard key={item.id} item={item} showDevice />
              ))}
            </ul>
          </section>
        )}
      </Stack>
    </Drawer>
  );
}
