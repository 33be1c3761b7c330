import { Tooltip } from '@mantine/core';
import type { ConnectionState } from '#contract/ipc';
import { formatTime } from '../lib/time-format.ts';
import { useSession } from '../stores/context.ts';

const LABELS: Record<ConnectionState['state'], string> = {
  online: 'Online',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

/** The live link to the server, as main reports it; the detail ("retrying in 4 s") is in the tooltip. */
export function ConnectionIndicator() {
  const connection = useSession((s) => s.connection);
  if (!connection) return null;
  const label = LABELS[connection.state];
  const tip = connection.detail ?? `${label} since ${formatTime(connection.since)}`;
  return (
    <Tooltip label={tip}>
      <div role="status" aria-label={`Connection: ${label}`} aria-description={tip} className="connection-indicator" data-state={connection.state} tabIndex={0}>
        <span className="connection-indicator__dot" aria-hidden="true" />
        {label}
      </div>
    </Tooltip>
  );
}
