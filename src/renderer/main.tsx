import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import './styles/app.css';
import { Alert, MantineProvider } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { type ReactNode, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { z } from 'zod';
import type { CommandView } from '#contract/api/commands';
import { commandSpec } from '#contract/protocol/commands';
import { App } from './App.tsx';
import { connectBridge } from './lib/bridge.ts';
import { describeError } from './lib/error-messages.ts';
import { commandLabel } from './lib/format.ts';
import { saveInBrowser } from './lib/local-files.ts';
import { notifyError, notifySessionNotice, notifySuccess, notifyTransfer } from './lib/notify.ts';
import { createAppStores, wireBridgeEvents } from './stores/app-stores.ts';
import { StoresContext } from './stores/context.ts';
import { theme } from './theme.ts';

// The CSP has no 'unsafe-eval': zod must not even probe for it (the probe is a CSP violation).
z.config({ jitless: true });

/**
 * A finished command, as a notification: it may finish while another tab is shown. One
 * stopped because its session ended says nothing: the session's end is announced itself.
 * File commands say nothing either: they carry transfers and listings, which the Files tab
 * and the Transfers panel report.
 */
function notifyCommandFinished(command: CommandView, serial: string): void {
  if (command.error?.code === 'SESSION_ENDED' || commandSpec(command.name).scope === 'files') return;
  const name = `${commandLabel(command.name)} on ${serial}`;
  const tab = commandSpec(command.name).privileged ? 'Diagnostics' : 'Commands';
  if (command.state === 'succeeded') notifySuccess(`${name} succeeded`, `The device answered; the result is in the ${tab} tab.`);
  else notifyError(`${name} ${command.state}`, command.error ?? new Error(`the command ${command.state} before the device answered`));
}

function bootstrap(): ReactNode {
  try {
    const bridge = connectBridge();
    const stores = createAppStores(bridge, {
      onCommandFinished: (command) => notifyCommandFinished(command, stores.device.getState().detail?.serial ?? 'the device'),
      onSessionNotice: notifySessionNotice,
      onTransferNotice: notifyTransfer,
      onSaveDownload: saveInBrowser,
    });
    wireBridgeEvents(stores);
    return (
      <StoresContext value={stores}>
        <App />
      </StoresContext>
    );
  } catch (err) {
    return (
      <Alert color="red" title="This window is not connected to a Tether console" m="xl" maw={560}>
        {describeError(err)}
      </Alert>
    );
  }
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="auto">
      <Notifications position="bottom-right" limit={4} />
      {bootstrap()}
    </MantineProvider>
  </StrictMode>,
);
