/**
 * How times read in the console: relative for "how long ago did it talk to us", absolute
 * (local, ISO-like, 24 h) for anything an engineer copies into a service report.
 */

const pad = (n: number) => String(n).padStart(2, '0');

/** "just now", "12 s ago", "4 min ago", "3 h ago", "2 d ago"; "never" without a time. */
export function formatRelativeTime(iso: string | null, nowMs: number): string {
  if (!iso) return 'never';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return 'unknown';
  const seconds = Math.floor((nowMs - then) / 1000);
  if (seconds < 2) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** "2025-11-27 07:53:12" in local time; "—" without a time. */
export function formatDateTime(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatClock(d)}`;
}

/** "07:53:12" in local time, for values that change within the hour. */
export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : formatClock(d);
}

/** "45 s", "4 min 32 s", "3 h 5 min", "2 d 4 h": a duration as an engineer reads an uptime. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** Chart axis ticks: "14:05" within a day, "11-27 14:05" over longer spans. */
export function formatAxisTime(ms: number, spanMs: number): string {
  const d = new Date(ms);
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return spanMs > 86_400_000 ? `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}` : clock;
}

function formatClock(d: Date): string {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Whole seconds from `nowMs` until `deadline` (ISO or epoch ms), rounded up; 0 once it passed. */
export function secondsUntil(deadline: string | number | null, nowMs: number): number {
  if (deadline === null) return 0;
  const at = typeof deadline === 'number' ? deadline : Date.parse(deadline);
  if (Number.isNaN(at)) return 0;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** "29:58", "0:07", "1:59:58": time left on a clock face, for a session's remaining time. */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  return hours > 0 ? `${hours}:${pad(minutes)}:${pad(s % 60)}` : `${minutes}:${pad(s % 60)}`;
}
