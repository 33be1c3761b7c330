import { Button, Group, Menu, Text, Tooltip } from '@mantine/core';
import { useState } from 'react';
import type { SessionState } from '#contract/ipc';
import { notifyError } from '../lib/notify.ts';
import { useSession } from '../stores/context.ts';
import { ConnectionIndicator } from './ConnectionIndicator.tsx';
import { NetworkSettingsModal } from './NetworkSettingsModal.tsx';
import { ChevronDownIcon, TetherMark } from './icons.tsx';
import { TransfersButton, TransfersDrawer } from './TransfersDrawer.tsx';
import { TunnelsButton, TunnelsDrawer } from './TunnelsDrawer.tsx';

const ROLE_NAMES = { admin: 'Administrator', engineer: 'Service engineer', viewer: 'Viewer (read only)' } as const;

/** The shell's top bar: product, where you are signed in, the live link, the network check, the transfers and tunnels, and who you are. */
export function AppHeader() {
  const session = useSession((s) => s.session);
  const signOut = useSession((s) => s.signOut);
  const openPreflight = useSession((s) => s.openPreflight);
  const signedIn: Extract<SessionState, { signedIn: true }> | null = session?.signedIn ? session : null;
  const [networkOpen, setNetworkOpen] = useState(false);

  return (
    <header className="app-header">
      <Group gap={8} wrap="nowrap">
        <TetherMark size={18} />
        <Text fw={700} size="sm">
          Tether
        </Text>
        {signedIn && (
          <Tooltip label={signedIn.serverUrl}>
            <Text size="sm" c="dimmed" className="app-header__profile" tabIndex={0}>
              {signedIn.profile.name}
            </Text>
          </Tooltip>
        )}
      </Group>
      {signedIn && (
        <Group gap="sm" wrap="nowrap">
          <ConnectionIndicator />
          <Button variant="subtle" color="gray" size="xs" onClick={openPreflight}>
            Network check
          </Button>
          <TransfersButton />
          <TransfersDrawer />
          <TunnelsButton />
          <TunnelsDrawer />
          <Menu position="bottom-end" width={220}>
            <Menu.Target>
              <Button variant="subtle" color="gray" rightSection={<ChevronDownIcon size={12} />}>
                {signedIn.user.displayName}
              </Button>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Label>
                {signedIn.user.username} · {ROLE_NAMES[signedIn.user.role]}
              </Menu.Label>
              <Menu.Item onClick={() => setNetworkOpen(true)}>Network settings…</Menu.Item>
              <Menu.Item onClick={() => void signOut().catch((err: unknown) => notifyError('Sign-out did not reach the server', err))}>Sign out</Menu.Item>
            </Menu.Dropdown>
          </Menu>
          <NetworkSettingsModal opened={networkOpen} onClose={() => setNetworkOpen(false)} />
        </Group>
      )}
    </header>
  );
}
