import { describe, expect, it } from 'vitest';
import { formatAxisTime, formatCountdown, formatDateTime, formatDuration, formatRelativeTime, formatTime, secondsUntil } from '../../../src/renderer/lib/time-format.ts';

const at = (iso: string) => Date.parse(iso);

describe('formatRelativeTime', () => {
  const then = '2025-01-01T10:00:00.000Z';

  it('counts seconds, then minutes, hours and days', () => {
    expect(formatRelativeTime(then, at('2025-01-01T10:00:12.400Z'))).toBe('12 s ago');
    expect(formatRelativeTime(then, at('2025-01-01T10:04:59.000Z'))).toBe('4 min ago');
    expect(formatRelativeTime(then, at('2025-01-01T13:30:00.000Z'))).toBe('3 h ago');
    expect(formatRelativeTime(then, at('2025-01-04T10:00:00.000Z'))).toBe('3 d ago');
  });

  it('reads "just now" for the last second and for clocks slightly ahead', () => {
    expect(formatRelativeTime(then, at('2025-01-01T10:00:01.000Z'))).toBe('just now');
    expect(formatRelativeTime(then, at('2025-01-01T09:59:58.000Z'))).toBe('just now');
  });

  it('reads "never" for a device that never made contact', () => {
    expect(formatRelativeTime(null, Date.now())).toBe('never');
  });
});

describe('absolute times', () => {
  it('formats local date and time as YYYY-MM-DD HH:mm:ss', () => {
    const local = new Date(2025, 0, 2, 3, 4, 5).toISOString();
    expect(formatDateTime(local)).toBe('2025-01-02 03:04:05');
    expect(formatTime(local)).toBe('03:04:05');
  });

  it('shows a dash for missing or broken times', () => {
    expect(formatDateTime(null)).toBe('—');
    expect(formatDateTime('not a date')).toBe('—');
    expect(formatTime(null)).toBe('—');
  });
});

describe('formatDuration', () => {
  it('uses the two largest units', () => {
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(272)).toBe('4 min 32 s');
    expect(formatDuration(3 * 3600 + 5 * 60 + 9)).toBe('3 h 5 min');
    expect(formatDuration(2 * 86_400 + 4 * 3600)).toBe('2 d 4 h');
  });
});

describe('formatAxisTime', () => {
  const t = new Date(2025, 10, 27, 14, 5, 30).getTime();

  it('shows 24-hour clock times within a day and adds the date beyond', () => {
    expect(formatAxisTime(t, 3600_000)).toBe('14:05');
    expect(formatAxisTime(t, 3 * 86_400_000)).toBe('11-27 14:05');
  });
});

describe('countdowns', () => {
  const now = Date.parse('2025-01-01T10:00:00.000Z');

  it('counts whole seconds left, rounding up, and stops at zero', () => {
    expect(secondsUntil('2025-01-01T10:01:52.200Z', now)).toBe(113);
    expect(secondsUntil(now + 500, now)).toBe(1);
    expect(secondsUntil('2025-01-01T09:59:00.000Z', now)).toBe(0);
    expect(secondsUntil(null, now)).toBe(0);
  });

  it('shows time left as m:ss, with hours when there are some', () => {
    expect(formatCountdown(29 * 60 + 58)).toBe('29:58');
    expect(formatCountdown(7)).toBe('0:07');
    expect(formatCountdown(3600 + 59 * 60 + 58)).toBe('1:59:58');
    expect(formatCountdown(-3)).toBe('0:00');
  });
});
