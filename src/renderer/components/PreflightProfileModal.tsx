import { Modal, Stack, TextInput, Textarea } from '@mantine/core';
import { type FormEvent, useEffect, useState } from 'react';
import type { PreflightProfile } from '#contract/preflight';
import { describeError } from '../lib/error-messages.ts';
import { editedProfile, hostLines, parseHostLines } from '../lib/preflight-hosts.ts';
import { usePreflight } from '../stores/context.ts';
import { ModalFormFooter } from './ModalFormFooter.tsx';

interface PreflightProfileModalProps {
  opened: boolean;
  /** The profile to edit (a custom or an imported one); null: a new profile. */
  profile: PreflightProfile | null;
  onClose: () => void;
  onSaved: (profile: PreflightProfile) => void;
}

/** A custom pre-flight profile: its name and its hosts with ports, one host a line. Main checks it before it is kept. */
export function PreflightProfileModal({ opened, profile, onClose, onSaved }: PreflightProfileModalProps) {
  const saveProfile = usePreflight((s) => s.saveProfile);
  const [name, setName] = useState('');
  const [hosts, setHosts] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (!opened) return;
    setName(profile?.name ?? '');
    setHosts(profile ? hostLines(profile) : '');
    setFailure(null);
  }, [opened, profile]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const { targets, problems } = parseHostLines(hosts);
    if (problems.length > 0) {
      setFailure(problems.join('; '));
      return;
    }
    const edited = editedProfile(profile, name, targets);
    setSaving(true);
    try {
      await saveProfile(edited);
      onSaved(edited);
    } catch (err) {
      setFailure(describeError(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal opened={opened} onClose={onClose} title={profile ? `Edit ${profile.name}` : 'New pre-flight profile'} size="lg">
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Stack gap="sm">
          <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} required data-autofocus />
          <Textarea
            label="Hosts and ports"
            description="One host a line: the name, a colon, then its ports — e.g. portal.hospital.example: 443, 8080"
            value={hosts}
            onChange={(e) => setHosts(e.currentTarget.value)}
            autosize
            minRows={4}
            maxRows={14}
            required
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
          />
          <ModalFormFooter failure={failure} failureTitle="The profile was not saved" submitLabel="Save profile" busy={saving} onCancel={onClose} />
        </Stack>
      </form>
    </Modal>
  );
}
