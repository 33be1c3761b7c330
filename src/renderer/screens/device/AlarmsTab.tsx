import { Button, Table, Text, Tooltip } from '@mantine/core';
import { useState } from 'react';
import type { Alarm } from '#contract/api/fleet';
import { SeverityBadge } from '../../components/SeverityBadge.tsx';
import { notifyError, notifySuccess } from '../../lib/notify.ts';
import { actionBlockedReason } from '../../lib/permissions.ts';
import { formatDateTime } from '../../lib/time-format.ts';
import { useDevice, useSession } from '../../stores/context.ts';

/** The device's open alarms, live; an active one can be acknowledged (recorded with your name). */
export function AlarmsTab() {
  const alarms = useDevice((s) => s.alarms);
  const acknowledge = useDevice((s) => s.acknowledge);
  const blocked = useSession((s) => actionBlockedReason(s.session?.signedIn ? s.session.user.role : undefined));
  const [pending, setPending] = useState<string | null>(null);

  const onAcknowledge = async (alarm: Alarm) => {
    setPending(alarm.id);
    try {
      await acknowledge(alarm.id);
      notifySuccess('Alarm acknowledged', `${alarm.code}: ${alarm.message}`);
    } catch (err) {
      notifyError(`${alarm.code} was not acknowledged`, err);
    } finally {
      setPending(null);
    }
  };

  if (alarms.length === 0) {
    return (
      <Text size="sm" c="dimmed" p="md">
        No open alarms.
      </Text>
    );
  }

  return (
    <Table aria-label="Open alarms">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Code</Table.Th>
          <Table.Th>Severity</Table.Th>
          <Table.Th>Message</Table.Th>
          <Table.Th ta="right">Count</Table.Th>
          <Table.Th>First seen</Table.Th>
          <Table.Th>Last seen</Table.Th>
          <Table.Th>State</Table.Th>
          <Table.Th aria-label="Actions" />
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {alarms.map((alarm) => (
          <Table.Tr key={alarm.id}>
            <Table.Td className="mono">{alarm.code}</Table.Td>
            <Table.Td>
              <SeverityBadge severity={alarm.severity} />
            </Table.Td>
            <Table.Td>{alarm.message}</Table.Td>
            <Table.Td ta="right" className="num">
              {alarm.count}
            </Table.Td>
            <Table.Td className="num">{formatDateTime(alarm.firstAt)}</Table.Td>
            <Table.Td className="num">{formatDateTime(alarm.lastAt)}</Table.Td>
            <Table.Td>
              {alarm.state === 'acknowledged' ? (
                <Tooltip label={`Acknowledged ${formatDateTime(alarm.acknowledgedAt)}`}>
                  <span>Acknowledged by {alarm.acknowledgedBy ?? 'someone'}</span>
                </Tooltip>
              ) : (
                alarm.state
              )}
            </Table.Td>
            <Table.Td ta="right">
              {alarm.state === 'active' && (
                <Tooltip label={blocked} disabled={!blocked}>
                  <span>
                    <Button
                      variant="light"
                      aria-label={`Acknowledge ${alarm.code}`}
                      disabled={blocked !== null}
                      loading={pending === alarm.id}
                      onClick={() => void onAcknowledge(alarm)}
                    >
                      Acknowledge
                    </Button>
                  </span>
                </Tooltip>
              )}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
