import { Button, Fieldset, Group, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { type SignInRow, newSignInRow } from '../lib/proxy-sign-ins.ts';

interface ProxySignInsProps {
  rows: SignInRow[];
  onChange: (rows: SignInRow[]) => void;
  /** Proxies (`host:port`) whose password is in the vault. */
  stored: readonly string[];
  error: string | null;
}

/**
 * "Proxy sign-in": credentials for proxies the user does not name — those a PAC script or
 * the system chooses. Each is kept for one `host:port` and sent only to that proxy; the
 * password goes to the vault and is never shown again.
 */
export function ProxySignIns({ rows, onChange, stored, error }: ProxySignInsProps) {
  const update = (id: number, field: 'proxy' | 'username' | 'password', value: string) => onChange(rows.map((r) => (r.id === id ? { ...r, [field]: value } : r)));
  return (
    <Fieldset legend="Proxy sign-in" variant="filled">
      <Stack gap="xs">
        <Text size="xs" c="dimmed">
          For a proxy that asks for credentials (407). They are sent only to the proxy named here, when the PAC script or the system chooses it. Passwords go
          to the vault and are never shown; leave a stored one empty to keep it.
        </Text>
        {rows.map((row, i) => (
          <Group key={row.id} gap="xs" align="flex-end" wrap="nowrap">
            <TextInput label="Proxy (host:port)" aria-label={`Proxy ${i + 1} (host:port)`} placeholder="proxy.hospital.example:3128" value={row.proxy} onChange={(e) => update(row.id, 'proxy', e.currentTarget.value)} style={{ flex: 3 }} />
            <TextInput label="User name" aria-label={`User name for proxy ${i + 1}`} value={row.username} onChange={(e) => update(row.id, 'username', e.currentTarget.value)} autoComplete="off" style={{ flex: 2 }} />
            <PasswordInput
              label="Password"
              aria-label={`Password for proxy ${i + 1}`}
              placeholder={stored.some((p) => p.toLowerCase() === row.proxy.trim().toLowerCase()) ? 'stored' : ''}
              value={row.password}
              onChange={(e) => update(row.id, 'password', e.currentTarget.value)}
              autoComplete="new-password"
              style={{ flex: 2 }}
            />
            <Button variant="subtle" color="red" onClick={() => onChange(rows.filter((r) => r.id !== row.id))} aria-label={`Remove the sign-in for proxy ${i + 1}`}>
              Remove
            </Button>
          </Group>
        ))}
        {error && (
          <Text size="sm" c="red" role="alert">
            {error}
          </Text>
        )}
        <Group>
          <Button variant="light" size="xs" onClick={() => onChange([...rows, newSignInRow()])} disabled={rows.length >= 16}>
            Add a proxy sign-in
          </Button>
        </Group>
      </Stack>
    </Fieldset>
  );
}
