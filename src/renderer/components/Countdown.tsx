import { memo } from 'react';
import { useSecondsNow } from '../lib/clock.ts';
import { formatCountdown, formatDateTime, secondsUntil } from '../lib/time-format.ts';

interface CountdownProps {
  /** ISO time or epoch ms. */
  deadline: string | number | null;
  /** `seconds`: "42s left"; `clock`: "Time left 29:58" (`prefix`, empty for none, then the clock). */
  format: 'seconds' | 'clock';
  prefix?: string;
  /** Seconds left from which it is shown as urgent. */
  urgentBelow?: number;
}

/** Time left until a deadline, ticking every second; the deadline itself is in its tooltip. */
export const Countdown = memo(function Countdown({ deadline, format, prefix = 'Time left', urgentBelow = 60 }: CountdownProps) {
  const now = useSecondsNow();
  const left = secondsUntil(deadline, now);
  const iso = deadline === null ? null : typeof deadline === 'number' ? new Date(deadline).toISOString() : deadline;
  return (
    <span role="timer" className="countdown num" data-urgent={left <= urgentBelow || undefined} title={`Until ${formatDateTime(iso)}`}>
      {format === 'seconds' ? `${left}s left` : `${prefix ? `${prefix} ` : ''}${formatCountdown(left)}`}
    </span>
  );
});
