import { Alert, Loader, Text } from '@mantine/core';
import { SeverityBadge } from '../../components/SeverityBadge.tsx';
import { formatDateTime } from '../../lib/time-format.ts';
import { useDevice } from '../../stores/context.ts';

/** The device's event log, newest first; live events appear at the top as they happen. */
export function EventsTab() {
  const { items, error } = useDevice((s) => s.events);

  if (error && !items) {
    return (
      <Alert color="red" title="The events could not be loaded" m="md">
        {error}
      </Alert>
    );
  }
  if (!items) return <Loader size="xs" m="md" aria-label="Loading events" />;
  if (items.length === 0) {
    return (
      <Text size="sm" c="dimmed" p="md">
        No events recorded yet.
      </Text>
    );
  }
  return (
    <ol className="event-timeline" aria-label="Events, newest first">
      {items.map((event) => (
        <li key={event.id} className="event-timeline__item" data-severity={event.severity}>
          <time dateTime={event.at} className="num">
            {formatDateTime(event.at)}
          </time>
          <SeverityBadge severity={event.severity} />
          <span className="event-timeline__type mono">{event.type}</span>
          <span className="event-timeline__message">{event.message}</span>
        </li>
      ))}
    </ol>
  );
}
