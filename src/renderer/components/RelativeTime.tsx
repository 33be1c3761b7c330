import { memo } from 'react';
import { useNow } from '../lib/clock.ts';
import { formatDateTime, formatRelativeTime } from '../lib/time-format.ts';

/** "12 s ago", kept current by the shared clock; the exact time is in its tooltip. */
export const RelativeTime = memo(function RelativeTime({ iso }: { iso: string | null }) {
  const now = useNow();
  return (
    <time dateTime={iso ?? undefined} title={formatDateTime(iso)}>
      {formatRelativeTime(iso, now)}
    </time>
  );
});
