import { memo } from 'react';
import type { DeviceStatus } from '#contract/common';

/**
 * A device's status as a colored badge with its word (online / offline / missing). A plain
 * element styled with Mantine's color tokens, cheap enough for every row of the fleet grid.
 */
export const StatusBadge = memo(function StatusBadge({ status }: { status: DeviceStatus }) {
  return (
    <span className="status-badge" data-status={status}>
      {status}
    </span>
  );
});
