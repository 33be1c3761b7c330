import { Alert, Badge, Button, Group, Loader, Popover, Select, Stack, Text, Tooltip } from '@mantine/core';
import { type FormEvent, useState } from 'react';
import type { DeviceDetail } from '#contract/api/fleet';
import type { SessionView } from '#contract/api/sessions';
import { Countdown } from '../../components/Countdown.tsx';
import { actionBlockedReason } from '../../lib/permissions.ts';
import { SCOPE_LABELS, connectedPeople } from '../../lib/session-format.ts';
import { useServiceSessions, useSession } from '../../stores/context.ts';
import { openSessionOf, roleIn } from '../../stores/service-session-reducers.ts';
import { RequestSessionModal } from './RequestSessionModal.tsx';
import './SessionBar.css';
import { usePendingAction } from '../../lib/use-pending-action.ts';

const EXTENSIONS = [15, 30, 60].map((m) => ({ value: String(m), label: `${m} min` }));

function ScopeBadges({ session }: { session: SessionView }) {
  return (
    <Group gap={4} wrap="nowrap" aria-label="Scopes">
      {session.scopes.map((scope) => (
        <Badge key={scope} variant="outline" color="gray" tt="none">
          {SCOPE_LABELS[scope]}
        </Badge>
      ))}
    </Group>
  );
}

/** "Extend": asks the customer for more time (a new consent, unless the policy allows it). */
function ExtendButton({ session }: { session: SessionView }) {
  const extend = useServiceSessions((s) => s.extend);
  const [opened, setOpened] = useState(false);
  const [minutes, setMinutes] = useState('30');
  const { pending, run } = usePendingAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await run('extend', 'More time was not requested', () => extend(session.id, Number(minutes)))) setOpened(false);
  };

  return (
    <Popover opened={opened} onChange={setOpened} position="bottom-end" withArrow shadow="md" trapFocus returnFocus>
      <Popover.Target>
        <Button variant="default" onClick={() => setOpened((o) => !o)} disabled={session.pendingExtension !== null} aria-expanded={opened}>
          Extend
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <form onSubmit={(e) => void submit(e)}>
          <Stack gap="xs" w={200}>
            <Select label="Extend by" data={EXTENSIONS} value={minutes} onChange={(v) => v && setMinutes(v)} comboboxProps={{ withinPortal: false }} data-autofocus />
            <Text size="xs" c="dimmed">
              The operator at the device is asked, unless the policy allows it.
            </Text>
            <Button type="submit" loading={pending === 'extend'}>
              Ask for more time
            </Button>
          </Stack>
        </form>
      </Popover.Dropdown>
    </Popover>
  );
}

/** Another engineer holds the device: say so, and offer to watch. */
function BusyAlert({ sessionId, message }: { sessionId: string; message: string }) {
  const join = useServiceSessions((s) => s.join);
  const dismiss = useServiceSessions((s) => s.dismissBusy);
  const { pending, run } = usePendingAction();
  return (
    <Alert color="orange" className="session-bar__busy" withCloseButton onClose={dismiss} closeButtonLabel="Dismiss">
      <Group gap="sm" justify="space-between" wrap="nowrap">
        <Text size="xs">{message}</Text>
        <Button variant="light" color="orange" loading={pending === 'join'} onClick={() => void run('join', 'You did not join the session', () => join(sessionId))}>
          Join as observer
        </Button>
      </Group>
    </Alert>
  );
}

interface SessionBarProps {
  detail: DeviceDetail;
  /** In the offline simulator: takes the trainee to the device panel to answer as the customer. */
  onOpenDevicePanel?: () => void;
}

/**
 * The service session of the device, above its tabs, so it stays in sight whatever tab is
 * shown: a way to request one; the wait for consent with its countdown; or the active
 * session with its scopes, time left, who is connected, and extend / end (or leave, for
 * an observer).
 */
export function SessionBar({ detail, onOpenDevicePanel }: SessionBarProps) {
  const sessions = useServiceSessions((s) => s.sessions);
  const loadError = useServiceSessions((s) => s.error);
  const busy = useServiceSessions((s) => s.busy);
  const end = useServiceSessions((s) => s.end);
  const join = useServiceSessions((s) => s.join);
  const leave = useServiceSessions((s) => s.leave);
  const user = useSession((s) => (s.session?.signedIn ? s.session.user : null));
  const [requesting, setRequesting] = useState(false);
  const { pending, run } = usePendingAction();
  const userId = user?.id ?? null;
  const blocked = actionBlockedReason(user?.role);
  const session = openSessionOf(sessions);

  if (!sessions) {
    return (
      <div className="session-bar" data-state="none">
        {loadError ? (
          <Text size="xs" c="red">
            The service sessions could not be loaded: {loadError}
          </Text>
        ) : (
          <Loader size="xs" aria-label="Loading sessions" />
        )}
      </div>
    );
  }

  if (!session) {
    const offline = detail.status !== 'online' ? `${detail.serial} is ${detail.status}; a session needs the device online.` : null;
    const reason = blocked ?? offline;
    return (
      <div className="session-bar" data-state="none">
        <Group gap="sm" wrap="nowrap">
          <Tooltip label={reason} disabled={!reason}>
            <span>
              <Button onClick={() => setRequesting(true)} disabled={reason !== null}>
                Request session
              </Button>
            </span>
          </Tooltip>
          <Text size="xs" c="dimmed">
            No service session. Diagnostics and other remote work need one, with the customer's consent.
          </Text>
        </Group>
        {busy && <BusyAlert sessionId={busy.sessionId} message={busy.message} />}
        <RequestSessionModal opened={requesting} onClose={() => setRequesting(false)} deviceName={detail.serial} onRequested={() => setRequesting(false)} />
      </div>
    );
  }

  const role = roleIn(session, userId);

  if (session.state === 'awaiting-consent') {
    return (
      <div className="session-bar" data-state="waiting">
        <Group gap="sm" wrap="nowrap" className="session-bar__main">
          <Loader size={14} color="yellow" aria-hidden="true" />
          <Text size="sm" fw={600}>
            Waiting for consent at the device
          </Text>
          <Countdown deadline={session.consentDeadline} format="seconds" urgentBelow={20} />
          <ScopeBadges session={session} />
          <Text size="xs" className="session-bar__reason" title={session.reason}>
            {role === 'controller' ? session.reason : `Requested by ${session.engineer.displayName}: ${session.reason}`}
          </Text>
        </Group>
        <Group gap="xs" wrap="nowrap">
          {onOpenDevicePanel && (
            <Button variant="subtle" onClick={onOpenDevicePanel}>
              Answer in the Device panel
            </Button>
          )}
          {role === 'controller' && (
            <Button variant="default" loading={pending === 'cancel'} onClick={() => void run('cancel', 'The request was not canceled', () => end(session.id))}>
              Cancel request
            </Button>
          )}
        </Group>
      </div>
    );
  }

  const title =
    role === 'controller'
      ? 'Service session active'
      : role === 'observer'
        ? `Observing ${session.engineer.displayName}'s session`
        : `${session.engineer.displayName} has a service session on this device`;
  return (
    <section className="session-bar" data-state={role === 'controller' ? 'active' : 'observing'} aria-label="Service session">
      <Group gap="sm" wrap="nowrap" className="session-bar__main">
        <Text size="sm" fw={600} className="session-bar__title">
          {title}
        </Text>
        <ScopeBadges session={session} />
        <Countdown deadline={session.expiresAt} format="clock" urgentBelow={300} />
        <Text size="xs" className="session-bar__people" aria-label="Connected">
          {connectedPeople(session, userId).map((p, i) => (
            <span key={p.key} data-controller={p.controller || undefined}>
              {i > 0 && ' · '}
              {p.text}
            </span>
          ))}
        </Text>
        {session.pendingExtension && (
          <Badge color="yellow" variant="light" tt="none">
            Extension waiting for consent
          </Badge>
        )}
      </Group>
      <Group gap="xs" wrap="nowrap">
        {role === 'controller' && (
          <>
            <ExtendButton session={session} />
            <Button color="red" variant="light" loading={pending === 'end'} onClick={() => void run('end', 'The session was not ended', () => end(session.id))}>
              End session
            </Button>
          </>
        )}
        {role === 'observer' && (
          <Button variant="default" loading={pending === 'leave'} onClick={() => void run('leave', 'You did not leave the session', () => leave(session.id))}>
            Leave
          </Button>
        )}
        {role === null && (
          <Tooltip label={blocked} disabled={!blocked}>
            <span>
              <Button variant="default" disabled={blocked !== null} loading={pending === 'join'} onClick={() => void run('join', 'You did not join the session', () => join(session.id))}>
                Join as observer
              </Button>
            </span>
          </Tooltip>
        )}
      </Group>
    </section>
  );
}
