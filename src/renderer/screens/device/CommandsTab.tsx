import { Alert, Badge, Button, Code, Group, Loader, Table, Text, Tooltip } from '@mantine/core';
import { useState } from 'react';
import type { CommandView } from '#contract/api/commands';
import type { CommandName } from '#contract/protocol/commands';
import { commandLabel, formatCommandResult } from '../../lib/format.ts';
import { notifyError } from '../../lib/notify.ts';
import { actionBlockedReason } from '../../lib/permissions.ts';
import { formatDateTime } from '../../lib/time-format.ts';
import { useDevice, useSession } from '../../stores/context.ts';
import { COMMAND_STATE_COLORS } from './command-states.ts';

const ACTIONS: readonly CommandName[] = ['ping', 'read-status'];

function CommandOutcome({ command }: { command: CommandView }) {
  if (command.state === 'succeeded') {
    const result = formatCommandResult(command.result);
    if (result.kind === 'json') return <Code block>{result.text}</Code>;
    return (
      <dl className="kv">
        {result.entries.map(([label, value]) => (
          <div key={label} className="kv__item">
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    );
  }
  if (command.error) {
    return (
      <Text size="xs" c="red">
        {command.error.message}
      </Text>
    );
  }
  return (
    <Text size="xs" c="dimmed">
      {command.state === 'expired' || command.state === 'canceled' ? 'No answer from the device.' : 'Waiting for the device…'}
    </Text>
  );
}

/** Commands to the device and their history; states change live as the device answers. */
export function CommandsTab() {
  const { items, error } = useDevice((s) => s.commands);
  const sendCommand = useDevice((s) => s.sendCommand);
  const blocked = useSession((s) => actionBlockedReason(s.session?.signedIn ? s.session.user.role : undefined));
  const [sending, setSending] = useState<CommandName | null>(null);

  const send = async (name: CommandName) => {
    setSending(name);
    try {
      await sendCommand(name);
    } catch (err) {
      notifyError(`${commandLabel(name)} was not sent`, err);
    } finally {
      setSending(null);
    }
  };

  return (
    <div className="commands-tab">
      <Group gap="xs" mb="sm">
        {ACTIONS.map((name) => (
          <Tooltip key={name} label={blocked} disabled={!blocked}>
            <span>
              <Button variant="default" disabled={blocked !== null} loading={sending === name} onClick={() => void send(name)}>
                {commandLabel(name)}
              </Button>
            </span>
          </Tooltip>
        ))}
        {blocked && (
          <Text size="xs" c="dimmed">
            View-only account: you can read the history but not send commands.
          </Text>
        )}
      </Group>
      {error && (
        <Alert color="red" title="The command history could not be loaded" mb="sm">
          {error}
        </Alert>
      )}
      {!items && !error && <Loader size="xs" aria-label="Loading commands" />}
      {items && items.length === 0 && (
        <Text size="sm" c="dimmed">
          No commands sent to this device yet.
        </Text>
      )}
      {items && items.length > 0 && (
        <Table aria-label="Command history" className="commands-tab__table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={110}>Command</Table.Th>
              <Table.Th w={100}>State</Table.Th>
              <Table.Th w={120}>Sent by</Table.Th>
              <Table.Th w={150}>Sent</Table.Th>
              <Table.Th w={150}>Updated</Table.Th>
              <Table.Th>Result</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((command) => (
              <Table.Tr key={command.id}>
                <Table.Td>{commandLabel(command.name)}</Table.Td>
                <Table.Td>
                  <Badge color={COMMAND_STATE_COLORS[command.state]} tt="none">
                    {command.state}
                  </Badge>
                </Table.Td>
                <Table.Td>{command.createdBy}</Table.Td>
                <Table.Td className="num">{formatDateTime(command.createdAt)}</Table.Td>
                <Table.Td className="num">{formatDateTime(command.updatedAt)}</Table.Td>
                <Table.Td>
                  <CommandOutcome command={command} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </div>
  );
}
