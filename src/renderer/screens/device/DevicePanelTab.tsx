import { Alert, Button, Group, Loader, Paper, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import type { DeviceDetail } from '#contract/api/fleet';
import { DEVICE_MODELS } from '#contract/device-models';
import type { OperatorState } from '#contract/ipc';
import { Countdown } from '../../components/Countdown.tsx';
import { notifyError, notifySuccess } from '../../lib/notify.ts';
import { scopeList } from '../../lib/session-format.ts';
import { type SimFault, faultLabel, faultOptionsFor, isSimFault } from '../../lib/sim-faults.ts';
import { useBridge, useOperator } from '../../stores/context.ts';
import './DevicePanelTab.css';
import { usePendingAction } from '../../lib/use-pending-action.ts';

type ConsentQuestion = OperatorState['consents'][number];
type ConnectedSession = OperatorState['sessions'][number];

const DEFAULT_OPERATOR = 'Biomed (simulator)';

/** One question on the device's screen: who asks, for what and how long, and time to answer. */
function ConsentCard({ question, deadline, serial, operator }: { question: ConsentQuestion; deadline: number; serial: string; operator: string }) {
  const bridge = useBridge();
  const { pending, run } = usePendingAction();
  const who = question.engineer.displayName;
  const decide = (approve: boolean) =>
    run(approve ? 'approve' : 'deny', `The answer to ${who} was not given`, () =>
      bridge.invoke('simulator.decideConsent', { serial, sessionId: question.sessionId, approve, operator: operator.trim() || DEFAULT_OPERATOR }),
    );
  return (
    <Paper withBorder p="sm" className="consent-card" component="li">
      <Group justify="space-between" wrap="nowrap" align="flex-start" gap="sm">
        <Stack gap={2} className="consent-card__body">
          <Text size="sm">
            <Text span fw={600}>
              {who}
            </Text>{' '}
            <Text span c="dimmed" size="xs">
              ({question.engineer.username})
            </Text>{' '}
            {question.kind === 'start' ? `asks for a service session of ${question.durationMinutes} min` : `asks for ${question.durationMinutes} more minutes`}
          </Text>
          <Text size="xs">
            <Text span c="dimmed">
              Scopes:
            </Text>{' '}
            {scopeList(question.scopes)}
          </Text>
          <Text size="xs">
            <Text span c="dimmed">
              Reason:
            </Text>{' '}
            {question.reason}
          </Text>
        </Stack>
        <Stack gap={6} align="flex-end">
          <Countdown deadline={deadline} format="seconds" urgentBelow={20} />
          <Group gap="xs" wrap="nowrap">
            <Button color="teal" loading={pending === 'approve'} disabled={pending !== null} onClick={() => void decide(true)} aria-label={`Approve consent for ${who}`}>
              Approve
            </Button>
            <Button color="red" variant="light" loading={pending === 'deny'} disabled={pending !== null} onClick={() => void decide(false)} aria-label={`Deny consent for ${who}`}>
              Deny
            </Button>
          </Group>
        </Stack>
      </Group>
    </Paper>
  );
}

/** A session connected to the device now, with the customer's power to end it. */
function ConnectedRow({ session, serial, operator }: { session: ConnectedSession; serial: string; operator: string }) {
  const bridge = useBridge();
  const { pending, run } = usePendingAction();
  const controller = session.controller.displayName;
  const revoke = () =>
    run('revoke', `The session of ${controller} was not revoked`, () =>
      bridge.invoke('simulator.revokeSession', { serial, sessionId: session.sessionId, operator: operator.trim() || DEFAULT_OPERATOR }),
    );
  return (
    <Table.Tr>
      <Table.Td>
        {controller}{' '}
        <Text span size="xs" c="dimmed">
          (in control)
        </Text>
      </Table.Td>
      <Table.Td>{session.observers.length ? session.observers.map((o) => o.displayName).join(', ') : '—'}</Table.Td>
      <Table.Td>{scopeList(session.scopes)}</Table.Td>
      <Table.Td className="device-panel__reason" title={session.reason}>
        {session.reason}
      </Table.Td>
      <Table.Td>
        <Countdown deadline={session.expiresAt} format="clock" prefix="" urgentBelow={300} />
      </Table.Td>
      <Table.Td ta="right">
        <Button color="red" loading={pending === 'revoke'} onClick={() => void revoke()} aria-label={`Revoke session of ${controller}`}>
          Revoke
        </Button>
      </Table.Td>
    </Table.Tr>
  );
}

/** Make the simulated device misbehave, and stop it again. */
function FaultInjection({ detail }: { detail: DeviceDetail }) {
  const bridge = useBridge();
  const options = faultOptionsFor(DEVICE_MODELS[detail.modelId].kind);
  const [fault, setFault] = useState<SimFault | null>(options[0]?.value ?? null);
  const [busy, setBusy] = useState<'inject' | 'clear' | null>(null);

  const inject = async () => {
    if (!fault) return;
    setBusy('inject');
    try {
      await bridge.invoke('simulator.injectFault', { serial: detail.serial, fault });
      notifySuccess(`${faultLabel(fault)} injected`, `${detail.serial} now behaves as if it had this fault; watch its alarms and events.`);
    } catch (err) {
      notifyError(`${faultLabel(fault)} was not injected`, err);
    } finally {
      setBusy(null);
    }
  };

  const clear = async () => {
    setBusy('clear');
    try {
      await bridge.invoke('simulator.clearFaults', { serial: detail.serial });
      notifySuccess('Faults cleared', `${detail.serial} recovers over the next few readings.`);
    } catch (err) {
      notifyError('The faults were not cleared', err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <Group gap="xs" align="flex-end">
      <Select label="Fault" data={options} value={fault} onChange={(v) => setFault(isSimFault(v) ? v : null)} w={220} />
      <Button onClick={() => void inject()} loading={busy === 'inject'} disabled={!fault || busy !== null}>
        Inject fault
      </Button>
      <Button variant="default" onClick={() => void clear()} loading={busy === 'clear'} disabled={busy !== null}>
        Clear faults
      </Button>
    </Group>
  );
}

/**
 * The offline simulator's device panel: the trainee plays the customer at the device —
 * answers consent requests, sees who is connected and can revoke them, and injects faults
 * to practise diagnosis.
 */
export function DevicePanelTab({ detail }: { detail: DeviceDetail }) {
  const state = useOperator((s) => s.state);
  const receivedAt = useOperator((s) => s.receivedAt);
  const error = useOperator((s) => s.error);
  const [operator, setOperator] = useState(DEFAULT_OPERATOR);

  return (
    <Stack gap="md" maw={980} className="device-panel">
      <Group justify="space-between" align="flex-end" wrap="wrap" gap="sm">
        <Text size="xs" c="dimmed" maw={560}>
          You are at {detail.serial} as the customer's operator. Engineers' requests wait here for your answer; whoever you let in is listed under Connected now until the session ends or you revoke it.
        </Text>
        <TextInput label="Your name at the device" value={operator} onChange={(e) => setOperator(e.currentTarget.value)} w={220} maxLength={128} />
      </Group>
      {error && (
        <Alert color="red" title="The device panel could not be read">
          {error}
        </Alert>
      )}
      {!state && !error && <Loader size="xs" aria-label="Loading the device panel" />}
      {state && (
        <>
          <section aria-labelledby="device-panel-consents">
            <Title order={2} id="device-panel-consents" className="section-title">
              Consent requests
            </Title>
            {state.consents.length === 0 ? (
              <Text size="xs" c="dimmed">
                No one is asking for access.
              </Text>
            ) : (
              <ul className="device-panel__list">
                {state.consents.map((question) => (
                  <ConsentCard key={`${question.sessionId}-${question.kind}`} question={question} deadline={receivedAt + question.expiresInMs} serial={detail.serial} operator={operator} />
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="device-panel-connected">
            <Title order={2} id="device-panel-connected" className="section-title">
              Connected now
            </Title>
            {state.sessions.length === 0 ? (
              <Text size="xs" c="dimmed">
                No one is connected.
              </Text>
            ) : (
              <Table aria-labelledby="device-panel-connected">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Engineer</Table.Th>
                    <Table.Th>Observers</Table.Th>
                    <Table.Th>Scopes</Table.Th>
                    <Table.Th>Reason</Table.Th>
                    <Table.Th w={130}>Time left</Table.Th>
                    <Table.Th w={90} aria-label="Actions" />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {state.sessions.map((session) => (
                    <ConnectedRow key={session.sessionId} session={session} serial={detail.serial} operator={operator} />
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </section>
        </>
      )}
      <section aria-labelledby="device-panel-faults">
        <Title order={2} id="device-panel-faults" className="section-title">
          Fault injection
        </Title>
        <Text size="xs" c="dimmed" mb="xs">
          Inject a fault to practise diagnosis: it shows up in the data, alarms and events as it would on real equipment.
        </Text>
        <FaultInjection detail={detail} />
      </section>
    </Stack>
  );
}
