import { Alert, Anchor, Button, Group, Loader, NumberInput, Paper, PasswordInput, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import type { Profile } from '#contract/ipc';
import { AddServerModal } from '../components/AddServerModal.tsx';
import { NetworkSettingsModal } from '../components/NetworkSettingsModal.tsx';
import { TetherMark } from '../components/icons.tsx';
import { describeError } from '../lib/error-messages.ts';
import { notifySuccess } from '../lib/notify.ts';
import { useBridge, useSession } from '../stores/context.ts';

const DEFAULT_FLEET_SIZE = 60;
const MAX_FLEET_SIZE = 20_000;

const GROUPS: Record<Profile['kind'], string> = { simulator: 'On this computer', hosted: 'Tether hosted', custom: 'Custom servers' };

/** Profiles as Select groups, in the order main lists them (the offline simulator first). */
function profileOptions(profiles: readonly Profile[]) {
  const groups = new Map<string, { value: string; label: string }[]>();
  for (const p of profiles) {
    const group = GROUPS[p.kind];
    groups.set(group, [...(groups.get(group) ?? []), { value: p.id, label: p.name }]);
  }
  return [...groups].map(([group, items]) => ({ group, items }));
}

/**
 * Where the engineer starts: choose a server profile and sign in, or start the offline
 * simulator with a fleet of the chosen size. Failures are phrased per error code.
 */
export function SignInScreen() {
  const bridge = useBridge();
  const signIn = useSession((s) => s.signIn);
  const signInSimulator = useSession((s) => s.signInSimulator);
  const openPreflight = useSession((s) => s.openPreflight);
  const simulator = useSession((s) => s.simulator);
  const endedMessage = useSession((s) => s.endedMessage);

  const [profiles, setProfiles] = useState<Profile[]>([]);
  const [profileId, setProfileId] = useState<string | null>(null);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [fleetSize, setFleetSize] = useState<number | string>(DEFAULT_FLEET_SIZE);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [networkOpen, setNetworkOpen] = useState(false);
  const [missing, setMissing] = useState<{ username?: string; password?: string }>({});

  useEffect(() => {
    bridge.invoke('profiles.list', {}).then(
      ({ profiles: list, lastUsedId }) => {
        setProfiles(list);
        setProfileId((current) => current ?? (list.some((p) => p.id === lastUsedId) ? lastUsedId : (list[0]?.id ?? null)));
      },
      (err: unknown) => setError(describeError(err)),
    );
  }, [bridge]);

  const options = useMemo(() => profileOptions(profiles), [profiles]);
  const profile = profiles.find((p) => p.id === profileId);
  const isSimulator = profile?.kind === 'simulator';
  const size = typeof fleetSize === 'number' ? fleetSize : Number.NaN;
  const sizeError = isSimulator && !(Number.isInteger(size) && size >= 1 && size <= MAX_FLEET_SIZE) ? `Enter a whole number from 1 to ${MAX_FLEET_SIZE}.` : null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!profile || busy || sizeError) return;
    if (!isSimulator && (!username.trim() || !password)) {
      setMissing({ ...(username.trim() ? {} : { username: 'Enter your username.' }), ...(password ? {} : { password: 'Enter your password.' }) });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (isSimulator) await signInSimulator(size);
      else await signIn(profile.id, username.trim(), password);
    } catch (err) {
      setError(describeError(err));
      setPassword('');
      setBusy(false);
    }
  };

  const editCredential = (field: 'username' | 'password', value: string) => {
    if (field === 'username') setUsername(value);
    else setPassword(value);
    setMissing((m) => ({ ...m, [field]: undefined }));
  };

  const alert = error ?? endedMessage;
  const starting = busy && isSimulator;

  return (
    <main className="sign-in">
      <Paper withBorder shadow="sm" p="xl" radius="md" className="sign-in__card">
        <form onSubmit={(e) => void submit(e)} noValidate>
          <Stack gap="md">
            <Group gap="xs">
              <TetherMark size={22} />
              <Title order={1} size="h3">
                Sign in to Tether
              </Title>
            </Group>
            <Text size="sm" c="dimmed">
              Remote service for installed equipment. Choose where to work: a Tether server, or the offline simulator on this computer.
            </Text>
            {alert && (
              <Alert color={error ? 'red' : 'yellow'} title={error ? 'Could not sign in' : 'You were signed out'}>
                {alert}
              </Alert>
            )}
            <div>
              <Select
                size="sm"
                label="Server profile"
                data={options}
                value={profileId}
                onChange={(value) => {
                  setProfileId(value);
                  setError(null);
                }}
                disabled={busy}
                searchable={profiles.length > 8}
              />
              <Anchor component="button" type="button" size="xs" mt={6} onClick={() => setAdding(true)} disabled={busy}>
                Add server…
              </Anchor>
            </div>
            {profile && !isSimulator && (
              <>
                <TextInput
                  size="sm"
                  label="Username"
                  autoComplete="username"
                  value={username}
                  onChange={(e) => editCredential('username', e.currentTarget.value)}
                  error={missing.username}
                  disabled={busy}
                  required
                  withAsterisk={false}
                />
                <PasswordInput
                  size="sm"
                  label="Password"
                  autoComplete="current-password"
                  value={password}
                  onChange={(e) => editCredential('password', e.currentTarget.value)}
                  error={missing.password}
                  disabled={busy}
                  required
                  withAsterisk={false}
                />
                <Button size="sm" type="submit" loading={busy} fullWidth>
                  Sign in
                </Button>
              </>
            )}
            {isSimulator && (
              <>
                <NumberInput
                  size="sm"
                  label="Fleet size"
                  description="Simulated devices to run on this computer."
                  value={fleetSize}
                  onChange={setFleetSize}
                  min={1}
                  max={MAX_FLEET_SIZE}
                  allowDecimal={false}
                  allowNegative={false}
                  clampBehavior="strict"
                  thousandSeparator=","
                  error={sizeError}
                  disabled={busy}
                />
                <Button size="sm" type="submit" disabled={starting || sizeError !== null} fullWidth>
                  Start simulator
                </Button>
                {starting && (
                  <Group gap="xs" wrap="nowrap" aria-live="polite">
                    <Loader size="xs" />
                    <Text size="xs" c="dimmed">
                      {simulator.message ?? 'Starting the simulator…'}
                    </Text>
                  </Group>
                )}
              </>
            )}
            <Group justify="center" gap="md">
              <Anchor component="button" type="button" size="xs" onClick={openPreflight} disabled={busy}>
                Check the network
              </Anchor>
              <Anchor component="button" type="button" size="xs" onClick={() => setNetworkOpen(true)} disabled={busy}>
                Network settings
              </Anchor>
            </Group>
          </Stack>
        </form>
      </Paper>
      <NetworkSettingsModal opened={networkOpen} onClose={() => setNetworkOpen(false)} testUrl={profile && profile.kind !== 'simulator' ? profile.url : undefined} />
      <AddServerModal
        opened={adding}
        onClose={() => setAdding(false)}
        onSaved={(saved) => {
          setAdding(false);
          setProfiles((list) => [...list.filter((p) => p.id !== saved.id), saved]);
          setProfileId(saved.id);
          notifySuccess('Server profile saved', `${saved.name} — ${saved.url}`);
        }}
      />
    </main>
  );
}
