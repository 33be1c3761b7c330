import { Badge } from '@mantine/core';
import type { AlarmSeverity, EventSeverity } from '#contract/common';

const COLORS: Record<AlarmSeverity | EventSeverity, string> = {
  critical: 'red',
  major: 'orange',
  minor: 'yellow',
  warning: 'yellow',
  error: 'red',
  info: 'blue',
};

/** An alarm's or event's severity as a colored badge with its word. */
export function SeverityBadge({ severity }: { severity: AlarmSeverity | EventSeverity }) {
  return (
    <Badge color={COLORS[severity]} variant={severity === 'critical' ? 'filled' : 'light'} tt="none">
      {severity}
    </Badge>
  );
}
