import { useState } from 'react';
import { notifyError } from './notify.ts';

/**
 * One action at a time per component, named so its button can show a spinner: `run`
 * marks `pending` with the name, awaits the action, reports a failure as a notification
 * titled `failed`, and resolves to whether it succeeded.
 */
export function usePendingAction(): { pending: string | null; run: (name: string, failed: string, action: () => Promise<unknown>) => Promise<boolean> } {
  const [pending, setPending] = useState<string | null>(null);
  const run = async (name: string, failed: string, action: () => Promise<unknown>): Promise<boolean> => {
    setPending(name);
    try {
      await action();
      return true;
    } catch (err) {
      notifyError(failed, err);
      return false;
    } finally {
      setPending(null);
    }
  };
  return { pending, run };
}
