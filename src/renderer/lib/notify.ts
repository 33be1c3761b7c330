import { notifications } from '@mantine/notifications';
import type { SessionNotice } from '../stores/service-session-reducers.ts';
import type { TransferNotice } from '../stores/transfer-reducers.ts';
import { describeError } from './error-messages.ts';

/** Every notification's close button, named for assistive tech (Mantine leaves it unnamed). */
const DISMISS = { closeButtonProps: { 'aria-label': 'Dismiss notification' } };

/**
 * A command, fault or acknowledgement went through. Announced politely (`status`): only
 * failures are alerts, so an alert on screen always means something needs attention.
 */
export function notifySuccess(title: string, message: string): void {
  notifications.show({ ...DISMISS, title, message, color: 'teal', autoClose: 4000, role: 'status' });
}

/** Something the user asked for failed: what and why, phrased per error code. */
export function notifyError(title: string, error: unknown): void {
  notifications.show({ ...DISMISS, title, message: describeError(error), color: 'red', autoClose: 8000 });
}

const NOTICE_COLORS: Record<SessionNotice['tone'], string> = { granted: 'teal', refused: 'orange', ended: 'gray' };

/**
 * A service session changed: consent given or refused, more time, the end and its cause.
 * Polite (`status`) like other news, but kept longer: it may concern a device the user is
 * not looking at, and an end they did not cause must not slip by.
 */
export function notifySessionNotice(notice: SessionNotice): void {
  notifications.show({ ...DISMISS, title: notice.title, message: notice.message, color: NOTICE_COLORS[notice.tone], autoClose: notice.tone === 'refused' ? 15_000 : 6000, role: 'status' });
}

/**
 * A transfer finished: done (polite, like other news) or failed (an alert, with the
 * reason in words — it may have run in the background for a long time).
 */
export function notifyTransfer(notice: TransferNotice): void {
  if (notice.tone === 'completed') {
    notifications.show({ ...DISMISS, title: notice.title, message: notice.message, color: 'teal', autoClose: 6000, role: 'status' });
    return;
  }
  const reason = notice.item.error ? describeError(notice.item.error) : 'No reason was given.';
  notifications.show({ ...DISMISS, title: notice.title, message: reason, color: 'red', autoClose: 15_000 });
}

/** Drops every notification: they are about a session that is over. */
export function clearNotifications(): void {
  notifications.clean();
}
