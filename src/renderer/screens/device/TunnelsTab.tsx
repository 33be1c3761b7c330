import { Alert, Badge, Button, Code, CopyButton, Group, Loader, NativeSelect, Stack, Text, Title, Tooltip } from '@mantine/core';
import { type FormEvent, useState } from 'react';
import type { DeviceDetail } from '#contract/api/fleet';
import type { SessionView } from '#contract/api/sessions';
import { DEVICE_MODELS } from '#contract/device-models';
import type { TunnelItem } from '#contract/ipc';
import type { TunnelTarget } from '#contract/tunnels';
import { TunnelTerminal } from '../../components/TunnelTerminal.tsx';
import { describeError } from '../../lib/error-messages.ts';
import { notifyError } from '../../lib/notify.ts';
import type { ScopedWork } from '../../lib/session-format.ts';
import { localAddress, localUrl, pathText, trafficText, tunnelStatusText, usesFallback } from '../../lib/tunnel-format.ts';
import { usePendingAction } from '../../lib/use-pending-action.ts';
import { useBridge, useTunnels } from '../../stores/context.ts';
import { RequestSessionModal } from './RequestSessionModal.tsx';
import { useScopeGate } from './use-scope-gate.ts';
import './TunnelsTab.css';

const TUNNEL_SCOPE = ['tunnel'] as const;
const KIND_HINTS: Readonly<Record<TunnelTarget['kind'], string>> = { http: 'web page', console: 'terminal', vnc: 'VNC desktop', tcp: 'TCP' };

const TUNNEL_WORK: ScopedWork = {
  scope: 'tunnel',
  needs: 'A tunnel to a service port of the device',
  whenActive: 'tunnels can be opened once the session is active',
  controllerOnly: 'open tunnels',
};

/**
 * Tunnels to the device's service ports, inside a session with the Tunnel scope: choose
 * one of the model's targets, open it, and use the local address it gets (copy it, open
 * a web page in the browser, or a terminal for a service console).
 */
export function TunnelsTab({ detail }: { detail: DeviceDetail }) {
  const { loaded, session, reason } = useScopeGate(TUNNEL_WORK, detail);
  const [requesting, setRequesting] = useState(false);

  if (!loaded) return <Loader size="xs" aria-label="Loading sessions" />;
  return (
    <Stack gap="md" className="tunnels-tab">
      {reason || !session ? (
        <Alert color="gray" title="No tunnel access" maw={640}>
          <Text size="sm">{reason?.text}</Text>
          {reason?.canRequest && (
            <Button mt="sm" onClick={() => setRequesting(true)}>
              Request session
            </Button>
          )}
        </Alert>
      ) : (
        <OpenTunnelForm detail={detail} session={session} />
      )}
      <DeviceTunnels detail={detail} />
      <RequestSessionModal opened={requesting} onClose={() => setRequesting(false)} deviceName={detail.serial} onRequested={() => setRequesting(false)} initialScopes={TUNNEL_SCOPE} />
    </Stack>
  );
}

function OpenTunnelForm({ detail, session }: { detail: DeviceDetail; session: SessionView }) {
  const open = useTunnels((s) => s.open);
  const targets = DEVICE_MODELS[detail.modelId].tunnels;
  const [targetId, setTargetId] = useState(targets[0]?.id ?? '');
  const [opening, setOpening] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setOpening(true);
    setError(null);
    try {
      await open({ deviceId: detail.id, sessionId: session.id, targetId });
    } catch (err) {
      setError(describeError(err));
    } finally {
      setOpening(false);
    }
  };

  return (
    <form onSubmit={(event) => void submit(event)} aria-label="Open a tunnel">
      <div className="tunnels-tab__form">
      <NativeSelect
        label="Service on the device"
        description="Only the service ports this model allows."
        value={targetId}
        onChange={(event) => setTargetId(event.currentTarget.value)}
        // a select does not submit its form on Enter by itself; here it opens the tunnel, as a text field would
        onKeyDown={(event) => {
          if (event.key !== 'Enter' || opening) return;
          event.preventDefault();
          event.currentTarget.form?.requestSubmit();
        }}
        data={targets.map((t) => ({ value: t.id, label: `${t.label} — port ${t.port} (${KIND_HINTS[t.kind]})` }))}
        w={380}
      />
      <Button type="submit" loading={opening} disabled={!targetId}>
        Open tunnel
      </Button>
      </div>
      {error && (
        <Text size="sm" c="red" mt={6} role="alert">
          {error}
        </Text>
      )}
    </form>
  );
}

/** This device's tunnels from this console: the open ones with their controls, then the last few closed. */
function DeviceTunnels({ detail }: { detail: DeviceDetail }) {
  const items = useTunnels((s) => s.items);
  const [terminalFor, setTerminalFor] = useState<string | null>(null);
  const mine = (items ?? []).filter((i) => i.deviceId === detail.id);
  const open = mine.filter((i) => i.link !== 'closed');
  const closed = mine.filter((i) => i.link === 'closed').slice(0, 3);
  const terminalTunnel = open.find((i) => i.id === terminalFor);

  return (
    <>
      <section aria-labelledby="device-tunnels-title">
        <Title order={2} id="device-tunnels-title" className="section-title">
          Open tunnels
        </Title>
        {open.length === 0 ? (
          <Text size="xs" c="dimmed">
            No tunnel to this device is open from this console.
          </Text>
        ) : (
          <ul className="tunnel-list" aria-labelledby="device-tunnels-title">
            {open.map((item) => (
              <TunnelCard key={item.id} item={item} onTerminal={() => setTerminalFor(item.id)} />
            ))}
          </ul>
        )}
      </section>
      {terminalTunnel && <TunnelTerminal key={terminalTunnel.id} tunnelId={terminalTunnel.id} title={`${terminalTunnel.targetLabel} — ${detail.serial}`} onClose={() => setTerminalFor(null)} />}
      {closed.length > 0 && (
        <section aria-labelledby="device-tunnels-closed-title">
          <Title order={2} id="device-tunnels-closed-title" className="section-title">
            Recently closed
          </Title>
          <ul className="tunnel-list" aria-labelledby="device-tunnels-closed-title">
            {closed.map((item) => (
              <TunnelCard key={item.id} item={item} />
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

/** One tunnel: status, local address with copy, path, traffic, and what can be done with it. */
export function TunnelCard({ item, onTerminal, showDevice = false }: { item: TunnelItem; onTerminal?: () => void; showDevice?: boolean }) {
  const bridge = useBridge();
  const close = useTunnels((s) => s.close);
  const { pending, run } = usePendingAction();
  const address = localAddress(item);
  const url = localUrl(item);
  const electron = bridge.pathForFile !== undefined;
  const name = `${item.targetLabel}${showDevice ? ` on ${item.deviceSerial}` : ''}`;
  const openInBrowser = () => {
    if (!url) return;
    // browser mode: the console runs in a browser already; a new tab is the natural place
    if (!electron) window.open(url, '_blank', 'noopener');
    else void bridge.invoke('tunnels.openInBrowser', { id: item.id }).catch((err: unknown) => notifyError('The page did not open', err));
  };

  return (
    <li className="tunnel-row" data-link={item.link} aria-label={`Tunnel to ${name}`}>
      <Group gap={8} justify="space-between" wrap="nowrap">
        <Text size="sm" fw={600} truncate="end">
          {name}
          <Text span size="xs" c="dimmed" fw={400}>
            {' '}
            · port {item.targetPort}
          </Text>
        </Text>
        <Badge color={item.link === 'connected' ? 'teal' : item.link === 'closed' ? 'gray' : 'yellow'} variant="light" tt="none">
          {tunnelStatusText(item)}
        </Badge>
      </Group>
      {address && (
        <Group gap={6} wrap="nowrap">
          <Text size="xs" c="dimmed">
            Local address
          </Text>
          <Code data-testid="tunnel-address">{address}</Code>
          <CopyButton value={address}>
            {({ copied, copy }) => (
              <Button size="compact-xs" variant="subtle" onClick={copy} aria-label={`Copy the local address of ${name}`}>
                {copied ? 'Copied' : 'Copy'}
              </Button>
            )}
          </CopyButton>
        </Group>
      )}
      <Group gap={6} justify="space-between" wrap="wrap">
        <Text size="xs" c="dimmed" className="num">
          <Tooltip label="How each leg reaches the relay: its own port, or a WebSocket on 443 where that port is blocked">
            <span tabIndex={0} className={usesFallback(item) ? 'tunnel-row__fallback' : undefined}>
              {pathText(item)}
            </span>
          </Tooltip>
          {' · '}
          <span data-testid="tunnel-traffic">{trafficText(item)}</span>
        </Text>
        {item.link !== 'closed' && (
          <Group gap={4} wrap="nowrap" ml="auto">
            {url && (
              <Button size="compact-xs" variant="light" onClick={openInBrowser} aria-label={`Open ${name} in the browser`}>
                Open in browser
              </Button>
            )}
            {item.targetKind === 'console' && onTerminal && (
              <Button size="compact-xs" variant="light" onClick={onTerminal} aria-label={`Open a terminal on ${name}`}>
                Terminal
              </Button>
            )}
            <Button size="compact-xs" variant="subtle" color="red" loading={pending === 'close'} onClick={() => void run('close', `The tunnel to ${name} did not close`, () => close(item.id))} aria-label={`Close the tunnel to ${name}`}>
              Close
            </Button>
          </Group>
        )}
      </Group>
      {item.error && item.link !== 'closed' && (
        <Text size="xs" c="orange" role="status">
          {describeError(item.error)}
        </Text>
      )}
    </li>
  );
}
