import { Alert, Button, Group, Loader, Modal, PasswordInput, Radio, Stack, Text, TextInput } from '@mantine/core';
import { type FormEvent, useEffect, useState } from 'react';
import { type ProxyMode, type ProxySettings, type ProxyState, type ProxyTestResult, ProxySettingsSchema } from '#contract/proxy';
import { describeError } from '../lib/error-messages.ts';
import { notifySuccess } from '../lib/notify.ts';
import { useBridge } from '../stores/context.ts';
import { ModalFormFooter } from './ModalFormFooter.tsx';
import { type SignInRow, signInRowsOf, signInsOf } from '../lib/proxy-sign-ins.ts';
import { ProxySignIns } from './ProxySignIns.tsx';

interface Form {
  mode: ProxyMode;
  url: string;
  username: string;
  /** Empty keeps the stored password; it is never read back. */
  password: string;
  pacUrl: string;
  /** Credentials for proxies chosen by PAC or the system. */
  signIns: SignInRow[];
}

const EMPTY_FORM: Form = { mode: 'none', url: '', username: '', password: '', pacUrl: '', signIns: [] };

function formOf(settings: ProxySettings): Form {
  if (settings.mode === 'manual') return { ...EMPTY_FORM, mode: 'manual', url: settings.url, username: settings.username ?? '' };
  if (settings.mode === 'pac') return { ...EMPTY_FORM, mode: 'pac', pacUrl: settings.pacUrl, signIns: signInRowsOf(settings.signIns) };
  if (settings.mode === 'system') return { ...EMPTY_FORM, mode: 'system', signIns: signInRowsOf(settings.signIns) };
  return { ...EMPTY_FORM, mode: settings.mode };
}

function settingsOf(form: Form): unknown {
  if (form.mode === 'manual') return { mode: 'manual', url: form.url.trim(), ...(form.username.trim() ? { username: form.username.trim() } : {}) };
  const { signIns } = signInsOf(form.signIns);
  const withSignIns = signIns.length > 0 ? { signIns } : {};
  if (form.mode === 'pac') return { mode: 'pac', pacUrl: form.pacUrl.trim(), ...withSignIns };
  if (form.mode === 'system') return { mode: 'system', ...withSignIns };
  return { mode: form.mode };
}

interface NetworkSettingsModalProps {
  opened: boolean;
  onClose: () => void;
  /** Before sign-in: the chosen profile's server, for "Test proxy" (signed in, the server in use). */
  testUrl?: string | undefined;
}

/**
 * The console-wide proxy: none, the system's, a manual proxy (password kept in the vault,
 * never shown back) or a PAC URL — with sign-ins for the proxies those two choose — and a
 * test of the route to the server. A server profile's own proxy still wins over this.
 */
export function NetworkSettingsModal({ opened, onClose, testUrl }: NetworkSettingsModalProps) {
  const bridge = useBridge();
  const [state, setState] = useState<ProxyState | null>(null);
  const [form, setForm] = useState<Form>(EMPTY_FORM);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [signInError, setSignInError] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [testing, setTesting] = useState(false);
  const [result, setResult] = useState<ProxyTestResult | string | null>(null);

  useEffect(() => {
    if (!opened) return;
    setResult(null);
    setFailure(null);
    bridge.invoke('proxy.get', {}).then(
      (loaded) => {
        setState(loaded);
        setForm(formOf(loaded.settings));
      },
      (err: unknown) => setFailure(describeError(err)),
    );
  }, [opened, bridge]);

  const change = (field: keyof Form) => (event: { currentTarget: { value: string } }) => {
    const value = event.currentTarget.value;
    setForm((f) => ({ ...f, [field]: value }));
    setFieldError(null);
  };

  /** Saves the form; answers false when it is not valid or the save failed. */
  const save = async (): Promise<boolean> => {
    const parsed = ProxySettingsSchema.safeParse(settingsOf(form));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const message = issue?.message ?? 'check the proxy settings';
      if (issue?.path[0] === 'signIns') setSignInError(typeof issue.path[1] === 'number' ? `Proxy ${issue.path[1] + 1}: ${message}` : message);
      else setFieldError(message);
      return false;
    }
    const { passwords } = signInsOf(form.signIns);
    setSaving(true);
    setFailure(null);
    try {
      const saved = await bridge.invoke('proxy.set', {
        settings: parsed.data,
        ...(form.password ? { password: form.password } : {}),
        ...(form.mode !== 'manual' && Object.keys(passwords).length > 0 ? { signInPasswords: passwords } : {}),
      });
      setState(saved);
      setForm((f) => ({ ...f, password: '', signIns: f.signIns.map((r) => ({ ...r, password: '' })) }));
      return true;
    } catch (err) {
      setFailure(describeError(err));
      return false;
    } finally {
      setSaving(false);
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await save()) {
      notifySuccess('Network settings saved', 'New connections use them');
      onClose();
    }
  };

  // the test checks what is saved, so the form is saved first
  const test = async () => {
    if (!(await save())) return;
    setTesting(true);
    setResult(null);
    try {
      setResult(await bridge.invoke('proxy.test', testUrl ? { url: testUrl } : {}));
    } catch (err) {
      setResult(describeError(err));
    } finally {
      setTesting(false);
    }
  };

  const systemHelp =
    state?.systemSource === 'environment'
      ? 'In the browser console this reads the HTTPS_PROXY and NO_PROXY environment variables of the process that started it.'
      : "The operating system's proxy settings (including its automatic configuration).";

  return (
    <Modal opened={opened} onClose={onClose} title="Network settings" size="lg">
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Stack gap="sm">
          <Radio.Group label="Proxy" description="Used for every server unless a server profile names its own proxy." value={form.mode} onChange={(mode) => setForm((f) => ({ ...f, mode: mode as ProxyMode }))}>
            <Stack gap={6} mt={6}>
              <Radio value="none" label="No proxy (connect directly)" />
              <Radio value="system" label="System proxy" description={systemHelp} />
              <Radio value="manual" label="Manual proxy" />
              <Radio value="pac" label="Automatic configuration (PAC) URL" />
            </Stack>
          </Radio.Group>
          {form.mode === 'manual' && (
            <>
              <TextInput label="Proxy URL" placeholder="http://proxy.hospital.example:3128" value={form.url} onChange={change('url')} error={fieldError} data-autofocus />
              <TextInput label="Proxy user name" description="Optional." value={form.username} onChange={change('username')} autoComplete="off" />
              <PasswordInput
                label="Proxy password"
                description={state?.hasPassword ? 'A password is stored in the vault; leave empty to keep it.' : 'Optional. Stored in the vault, never shown again.'}
                value={form.password}
                onChange={change('password')}
                autoComplete="new-password"
              />
            </>
          )}
          {form.mode === 'pac' && (
            <TextInput label="PAC URL" placeholder="http://wpad.hospital.example/proxy.pac" description="http://, https:// or file:// address of the proxy auto-configuration script." value={form.pacUrl} onChange={change('pacUrl')} error={fieldError} data-autofocus />
          )}
          {(form.mode === 'pac' || form.mode === 'system') && (
            <ProxySignIns
              rows={form.signIns}
              stored={state?.signInPasswords ?? []}
              error={signInError}
              onChange={(signIns) => {
                setForm((f) => ({ ...f, signIns }));
                setSignInError(null);
              }}
            />
          )}
          <Group gap="sm" align="center">
            <Button variant="light" onClick={() => void test()} loading={testing} disabled={saving}>
              Test proxy
            </Button>
            {testing && <Loader size="xs" aria-label="Testing the proxy" />}
          </Group>
          <div aria-live="polite">{result && <ProxyTestOutcome result={result} />}</div>
          <ModalFormFooter failure={failure} failureTitle="The settings were not saved" submitLabel="Save" busy={saving} onCancel={onClose} />
        </Stack>
      </form>
    </Modal>
  );
}

const HOP_NAMES = { pac: 'the PAC script', proxy: 'the proxy', target: 'the server behind it' } as const;

function ProxyTestOutcome({ result }: { result: ProxyTestResult | string }) {
  if (typeof result === 'string') {
    return (
      <Alert color="red" title="The test did not run">
        {result}
      </Alert>
    );
  }
  return (
    <Alert color={result.ok ? 'green' : 'red'} title={result.ok ? `Reached ${result.target}` : `Failed at ${result.failedHop ? HOP_NAMES[result.failedHop] : 'the connection'}`}>
      <Text size="sm">Route: {result.route ?? 'none chosen'}</Text>
      <Text size="sm">{result.message}</Text>
    </Alert>
  );
}
