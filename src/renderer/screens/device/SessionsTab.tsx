import { Alert, Badge, Button, Loader, Table, Text } from '@mantine/core';
import { Fragment, useState } from 'react';
import type { SessionView } from '#contract/api/sessions';
import type { ServiceSessionState } from '#contract/sessions';
import { ChevronDownIcon } from '../../components/icons.tsx';
import { SESSION_STATE_LABELS, endCauseSentence, scopeList, timelineDetail, timelineEventLabel } from '../../lib/session-format.ts';
import { formatDateTime, formatTime } from '../../lib/time-format.ts';
import { useServiceSessions } from '../../stores/context.ts';
import './SessionsTab.css';

const STATE_COLORS: Readonly<Record<ServiceSessionState, string>> = {
  requested: 'gray',
  'awaiting-consent': 'yellow',
  active: 'teal',
  ended: 'gray',
  denied: 'orange',
};

const COLUMNS = 9;

/** What happened in one session, step by step, as the server recorded it. */
function SessionTimeline({ session }: { session: SessionView }) {
  if (session.timeline.length === 0) return <Text size="xs" c="dimmed">Nothing recorded.</Text>;
  return (
    <ol className="session-timeline" aria-label="Timeline">
      {session.timeline.map((entry, i) => (
        <li key={`${entry.at}-${i}`} className="session-timeline__item" data-type={entry.type}>
          <time dateTime={entry.at} className="num">
            {formatTime(entry.at)}
          </time>
          <span className="session-timeline__type">{timelineEventLabel(entry.type)}</span>
          <span className="session-timeline__detail">{timelineDetail(entry.detail)}</span>
        </li>
      ))}
    </ol>
  );
}

/**
 * The device's service sessions, newest first: who, what for, how each ended (in words);
 * each expands to its timeline.
 */
export function SessionsTab() {
  const sessions = useServiceSessions((s) => s.sessions);
  const error = useServiceSessions((s) => s.error);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());

  const toggle = (id: string) =>
    setExpanded((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });

  if (error && !sessions) {
    return (
      <Alert color="red" title="The sessions could not be loaded">
        {error}
      </Alert>
    );
  }
  if (!sessions) return <Loader size="xs" aria-label="Loading sessions" />;
  if (sessions.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        No service sessions on this device yet.
      </Text>
    );
  }

  return (
    <Table aria-label="Sessions" className="sessions-tab__table">
      <Table.Thead>
        <Table.Tr>
          <Table.Th w={28} aria-label="Timeline" />
          <Table.Th w={140}>Engineer</Table.Th>
          <Table.Th w={130}>Scopes</Table.Th>
          <Table.Th>Reason</Table.Th>
          <Table.Th w={130}>State</Table.Th>
          <Table.Th>End cause</Table.Th>
          <Table.Th w={140}>Requested</Table.Th>
          <Table.Th w={140}>Started</Table.Th>
          <Table.Th w={140}>Ended</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {sessions.map((session) => {
          const open = expanded.has(session.id);
          const timelineId = `session-timeline-${session.id}`;
          return (
            <Fragment key={session.id}>
              <Table.Tr data-expanded={open || undefined}>
                <Table.Td>
                  <Button
                    variant="subtle"
                    color="gray"
                    size="compact-xs"
                    className="sessions-tab__toggle"
                    aria-expanded={open}
                    aria-controls={open ? timelineId : undefined}
                    aria-label={`Timeline of the session requested ${formatDateTime(session.createdAt)}`}
                    onClick={() => toggle(session.id)}
                  >
                    <ChevronDownIcon size={12} />
                  </Button>
                </Table.Td>
                <Table.Td>
                  {session.engineer.displayName}
                  {session.observers.length > 0 && (
                    <Text span size="xs" c="dimmed">
                      {' '}
                      +{session.observers.length}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{scopeList(session.scopes)}</Table.Td>
                <Table.Td className="sessions-tab__reason" title={session.reason}>
                  {session.reason}
                </Table.Td>
                <Table.Td>
                  <Badge color={STATE_COLORS[session.state]} tt="none">
                    {SESSION_STATE_LABELS[session.state]}
                  </Badge>
                </Table.Td>
                <Table.Td>{endCauseSentence(session.endCause)}</Table.Td>
                <Table.Td className="num">{formatDateTime(session.createdAt)}</Table.Td>
                <Table.Td className="num">{formatDateTime(session.activatedAt)}</Table.Td>
                <Table.Td className="num">{formatDateTime(session.endedAt)}</Table.Td>
              </Table.Tr>
              {open && (
                <Table.Tr className="sessions-tab__timeline-row">
                  <Table.Td colSpan={COLUMNS} id={timelineId}>
                    <SessionTimeline session={session} />
                  </Table.Td>
                </Table.Tr>
              )}
            </Fragment>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}
