import { notifications } from '@mantine/notifications';
import { describeError } from './error-messages.ts';

/**
 * A command, fault or acknowledgement went through. Announced politely (`status`): only
 * failures are alerts, so an alert on screen always means something needs attention.
 */
export function notifySuccess(title: string, message: string): void {
  notifications.show({ title, message, color: 'teal', autoClose: 4000, role: 'status' });
}

/** Something the user asked for failed: what and why, phrased per error code. */
export function notifyError(title: string, error: unknown): void {
  notifications.show({ title, message: describeError(error), color: 'red', autoClose: 8000 });
}

/** Drops every notification: they are about a session that is over. */
export function clearNotifications(): void {
  notifications.clean();
}
