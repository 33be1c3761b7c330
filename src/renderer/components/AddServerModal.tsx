import { Modal, Stack, TextInput, Textarea } from '@mantine/core';
import { type FormEvent, useState } from 'react';
import { type Profile, SaveProfileInputSchema } from '#contract/ipc';
import { describeError } from '../lib/error-messages.ts';
import { useBridge } from '../stores/context.ts';
import { ModalFormFooter } from './ModalFormFooter.tsx';

type Field = 'name' | 'url' | 'caPem' | 'proxy';
const EMPTY_FORM: Record<Field, string> = { name: '', url: '', caPem: '', proxy: '' };

/** Friendlier words for the few checks whose contract message is generic. */
function fieldMessage(field: Field, message: string): string {
  if (field === 'proxy') return 'Enter the proxy as http://host:port (or leave it empty).';
  return message[0]!.toUpperCase() + message.slice(1);
}

interface AddServerModalProps {
  opened: boolean;
  onClose: () => void;
  onSaved: (profile: Profile) => void;
}

/**
 * A custom server profile: name, https URL, optionally the CA to pin (empty trusts the
 * system store) and a proxy. Checked with the contract's own schema before it is sent, so
 * mistakes show at their field.
 */
export function AddServerModal({ opened, onClose, onSaved }: AddServerModalProps) {
  const bridge = useBridge();
  const [form, setForm] = useState(EMPTY_FORM);
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const change = (field: Field) => (event: { currentTarget: { value: string } }) => {
    const value = event.currentTarget.value;
    setForm((f) => ({ ...f, [field]: value }));
    setErrors((e) => ({ ...e, [field]: undefined }));
  };

  const close = () => {
    setForm(EMPTY_FORM);
    setErrors({});
    setFailure(null);
    onClose();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    const input = {
      name: form.name,
      url: form.url.trim(),
      caPem: form.caPem.trim() || null,
      proxy: form.proxy.trim() ? { url: form.proxy.trim() } : null,
    };
    const parsed = SaveProfileInputSchema.safeParse(input);
    if (!parsed.success) {
      const found: Partial<Record<Field, string>> = {};
      for (const issue of parsed.error.issues) {
        const field = issue.path[0] as Field;
        found[field] ??= fieldMessage(field, issue.message);
      }
      setErrors(found);
      return;
    }
    setSaving(true);
    try {
      const profile = await bridge.invoke('profiles.save', parsed.data);
      setForm(EMPTY_FORM);
      onSaved(profile);
    } catch (err) {
      setFailure(describeError(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal opened={opened} onClose={close} title="Add a custom server" size="lg">
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Stack gap="sm">
          <TextInput label="Profile name" placeholder="Hospital group EU" value={form.name} onChange={change('name')} error={errors.name} required withAsterisk={false} data-autofocus />
          <TextInput label="Server URL" placeholder="https://tether.example.org" value={form.url} onChange={change('url')} error={errors.url} required withAsterisk={false} />
          <Textarea
            label="CA certificate (PEM)"
            description="Optional. Paste the CA that issued the server's certificate to pin it; leave empty to trust the system's certificate store."
            placeholder="-----BEGIN CERTIFICATE-----"
            value={form.caPem}
            onChange={change('caPem')}
            error={errors.caPem}
            autosize
            minRows={3}
            maxRows={8}
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
          />
          <TextInput
            label="Proxy URL"
            description="Optional. The web proxy the hospital network requires, e.g. http://proxy.local:3128."
            value={form.proxy}
            onChange={change('proxy')}
            error={errors.proxy}
          />
          <ModalFormFooter failure={failure} failureTitle="The profile was not saved" submitLabel="Save profile" busy={saving} onCancel={close} />
        </Stack>
      </form>
    </Modal>
  );
}
