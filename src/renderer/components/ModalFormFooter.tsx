import { Alert, Button, Group } from '@mantine/core';

interface ModalFormFooterProps {
  /** Why the last submit failed, shown above the buttons under `failureTitle`. */
  failure: string | null;
  failureTitle: string;
  submitLabel: string;
  busy: boolean;
  onCancel: () => void;
}

/** The end of a modal form: what went wrong, if anything, then Cancel and the submit button. */
export function ModalFormFooter({ failure, failureTitle, submitLabel, busy, onCancel }: ModalFormFooterProps) {
  return (
    <>
      {failure && (
        <Alert color="red" title={failureTitle}>
          {failure}
        </Alert>
      )}
      <Group justify="flex-end" gap="xs">
        <Button variant="default" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" loading={busy}>
          {submitLabel}
        </Button>
      </Group>
    </>
  );
}
