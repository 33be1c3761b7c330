import { Checkbox, Modal, Select, Stack, Text, TextInput } from '@mantine/core';
import { type FormEvent, useState } from 'react';
import { CreateSessionRequestSchema, type SessionView } from '#contract/api/sessions';
import { SESSION_SCOPES, type SessionScope, SessionScopeSchema } from '#contract/sessions';
import { describeError } from '../../lib/error-messages.ts';
import { SCOPE_LABELS } from '../../lib/session-format.ts';
import { useServiceSessions } from '../../stores/context.ts';
import { ModalFormFooter } from '../../components/ModalFormFooter.tsx';

const SCOPE_HINTS: Readonly<Record<SessionScope, string>> = {
  diagnose: 'Run diagnostics: self-test, checks, logs, configuration',
  files: 'Transfer files to and from the device',
  tunnel: 'Open a tunnel to a service on the device',
  deploy: 'Install software on the device',
};

const DEFAULT_SCOPES: readonly SessionScope[] = ['diagnose'];

const DURATIONS = [15, 30, 60, 120, 240].map((m) => ({ value: String(m), label: m < 60 ? `${m} min` : `${m / 60} h` }));

type Field = 'scopes' | 'reason' | 'durationMinutes';

/** The contract's message for a field, as a sentence; a short reason also says how long it must be. */
function fieldMessage(field: Field, message: string, code: string): string {
  const text = message[0]!.toUpperCase() + message.slice(1);
  return field === 'reason' && code === 'too_small' ? `${text} (at least 3 characters).` : `${text}.`;
}

interface RequestSessionModalProps {
  opened: boolean;
  onClose: () => void;
  /** The device is named in the dialog, so the engineer knows whom they ask. */
  deviceName: string;
  onRequested: (session: SessionView) => void;
  /** The scopes ticked when the dialog opens (what the screen that opened it needs). */
  initialScopes?: readonly SessionScope[];
}

/**
 * Asking the customer for a service session: what for (scopes), why (a reason or ticket
 * number, recorded and shown to the operator at the device) and for how long. Checked
 * with the contract's own schema first, so a mistake shows at its field.
 */
export function RequestSessionModal({ opened, onClose, deviceName, onRequested, initialScopes = DEFAULT_SCOPES }: RequestSessionModalProps) {
  const request = useServiceSessions((s) => s.request);
  const [scopes, setScopes] = useState<SessionScope[]>([...initialScopes]);
  const [reason, setReason] = useState('');
  const [duration, setDuration] = useState('30');
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  const close = () => {
    setErrors({});
    setFailure(null);
    onClose();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    const parsed = CreateSessionRequestSchema.safeParse({ scopes, reason, durationMinutes: Number(duration) });
    if (!parsed.success) {
      const found: Partial<Record<Field, string>> = {};
      for (const issue of parsed.error.issues) {
        const field = issue.path[0] as Field;
        found[field] ??= fieldMessage(field, issue.message, issue.code);
      }
      setErrors(found);
      return;
    }
    setSending(true);
    try {
      const session = await request(parsed.data);
      setReason('');
      setScopes([...initialScopes]);
      setErrors({});
      onRequested(session);
    } catch (err) {
      // a busy device is shown in the session bar, with the offer to join
      if ((err as { code?: string }).code === 'SESSION_BUSY') close();
      else setFailure(describeError(err));
    } finally {
      setSending(false);
    }
  };

  return (
    <Modal opened={opened} onClose={close} title="Request a service session" size="md">
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Stack gap="sm">
          <Text size="xs" c="dimmed">
            The operator at {deviceName} is asked to consent, unless the customer's policy decides for them. You can work on the device only while the session is active.
          </Text>
          <Checkbox.Group
            size="xs"
            label="Scopes"
            value={scopes}
            onChange={(values) => {
              setScopes(values.filter((v): v is SessionScope => SessionScopeSchema.safeParse(v).success));
              setErrors((e) => ({ ...e, scopes: undefined }));
            }}
            error={errors.scopes}
          >
            <Stack gap={6} mt={4}>
              {SESSION_SCOPES.map((scope) => (
                <Checkbox key={scope} value={scope} label={SCOPE_LABELS[scope]} description={SCOPE_HINTS[scope]} size="xs" />
              ))}
            </Stack>
          </Checkbox.Group>
          <TextInput
            label="Reason or ticket number"
            placeholder="INC-20931 injector reports pressure faults"
            value={reason}
            onChange={(e) => {
              setReason(e.currentTarget.value);
              setErrors((er) => ({ ...er, reason: undefined }));
            }}
            error={errors.reason}
            required
            withAsterisk={false}
            maxLength={500}
            data-autofocus
          />
          <Select
            label="Duration"
            data={DURATIONS}
            value={duration}
            onChange={(v) => v && setDuration(v)}
            error={errors.durationMinutes}
            w={140}
          />
          <ModalFormFooter failure={failure} failureTitle="The session was not requested" submitLabel="Request" busy={sending} onCancel={close} />
        </Stack>
      </form>
    </Modal>
  );
}
