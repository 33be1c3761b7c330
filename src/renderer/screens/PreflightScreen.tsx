import { Alert, Badge, Button, Group, List, Paper, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { PreflightProfileEntry } from '#contract/ipc';
import type { PreflightProfile, ProductStatus, RowLevel } from '#contract/preflight';
import { PreflightProfileModal } from '../components/PreflightProfileModal.tsx';
import { BridgeError } from '../lib/bridge.ts';
import { notifyError, notifySuccess } from '../lib/notify.ts';
import { type PreflightRowView, dnsCell, isRunActive, rowResultLabel, runProgress, sessionCell, tcpCell } from '../stores/preflight-reducers.ts';
import { useBridge, usePreflight, useSession } from '../stores/context.ts';

const SOURCE_GROUPS: Record<PreflightProfileEntry['source'], string> = { 'built-in': 'Built-in', custom: 'Custom', server: 'This server' };

const VERDICT_BANNERS: Record<ProductStatus, { title: string; color: string }> = {
  ready: { title: 'Ready', color: 'green' },
  'ready-with-warnings': { title: 'Ready with warnings', color: 'yellow' },
  blocked: { title: 'Blocked', color: 'red' },
  incomplete: { title: 'Incomplete', color: 'gray' },
};

const LEVEL_COLORS: Record<RowLevel, string> = { ok: 'green', warning: 'yellow', blocked: 'red', 'not-run': 'gray' };

/** Hands text to the browser as a file download (both modes: the renderer saves nothing itself). */
function downloadText(fileName: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  // the download has its own copy once clicked
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Browser mode: the printable report in its own tab, with the browser's print dialog (save as PDF there). */
function printHtml(html: string): void {
  const url = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
  const tab = window.open(url, '_blank');
  if (!tab) throw new BridgeError({ code: 'FORBIDDEN', message: 'the browser blocked the report tab; allow pop-ups for the console and try again' });
  tab.addEventListener('load', () => tab.print(), { once: true });
}

function ResultCell({ view }: { view: PreflightRowView }) {
  const level = view.verdict?.level;
  return (
    <Stack gap={2}>
      <Badge variant="light" color={level ? LEVEL_COLORS[level] : 'gray'} w="fit-content">
        {rowResultLabel(view)}
      </Badge>
      {view.verdict?.reason && (
        <Text size="xs" c="dimmed">
          {view.verdict.reason}
        </Text>
      )}
    </Stack>
  );
}

/**
 * The network pre-flight: choose a profile, run it, watch each host and port fill in,
 * read the verdict, and hand the report on (JSON, or PDF through print). Reachable signed
 * out from the sign-in screen and signed in from the header.
 */
export function PreflightScreen() {
  const bridge = useBridge();
  const signedIn = useSession((s) => s.session?.signedIn ?? false);
  const openFleet = useSession((s) => s.openFleet);
  const { profiles, selectedId, error, run } = usePreflight((s) => s);
  const actions = usePreflight((s) => s);
  const load = usePreflight((s) => s.load);
  const [editing, setEditing] = useState<{ profile: PreflightProfile | null } | null>(null);
  const [proxyUrl, setProxyUrl] = useState('');
  const importInput = useRef<HTMLInputElement>(null);
  const active = isRunActive(run);
  const selected = profiles.find((e) => e.profile.id === selectedId) ?? null;

  // the console's own manual proxy is the default; the field can still be changed per run
  useEffect(() => {
    bridge.invoke('proxy.get', {}).then(
      ({ settings }) => {
        if (settings.mode === 'manual') setProxyUrl((current) => current || settings.url);
      },
      (err: unknown) => notifyError('The console proxy setting could not be read', err),
    );
  }, [bridge]);

  // signing in or out adds or drops the server's own profile
  useEffect(() => {
    void load();
  }, [load, signedIn]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void actions.start(proxyUrl);
  };

  const exportJson = async () => {
    try {
      const report = await actions.report('json');
      downloadText(report.fileName, report.text, 'application/json');
    } catch (err) {
      notifyError('The report was not exported', err);
    }
  };

  const printPdf = async () => {
    try {
      const path = await actions.savePdf();
      if (path) notifySuccess('Report saved', path);
    } catch (err) {
      // browser mode has no PDF printer in the console process: the browser prints the HTML
      if (err instanceof BridgeError && err.code === 'METHOD_NOT_ALLOWED') {
        try {
          printHtml((await actions.report('html')).text);
        } catch (printErr) {
          notifyError('The report was not printed', printErr);
        }
        return;
      }
      notifyError('The report was not saved', err);
    }
  };

  const importProfile = async (file: File | undefined) => {
    if (!file) return;
    try {
      setEditing({ profile: await actions.importProfile(await file.text()) });
    } catch (err) {
      notifyError(`${file.name} is not a pre-flight profile`, err);
    } finally {
      if (importInput.current) importInput.current.value = '';
    }
  };

  const exportProfile = async (id: string) => {
    try {
      const exported = await actions.exportProfile(id);
      downloadText(exported.fileName, exported.json, 'application/json');
    } catch (err) {
      notifyError('The profile was not exported', err);
    }
  };

  const deleteProfile = async (entry: PreflightProfileEntry) => {
    if (!window.confirm(`Delete the profile "${entry.profile.name}"?`)) return;
    try {
      await actions.deleteProfile(entry.profile.id);
    } catch (err) {
      notifyError('The profile was not deleted', err);
    }
  };

  const groups = (['built-in', 'custom', 'server'] as const)
    .map((source) => ({ group: SOURCE_GROUPS[source], items: profiles.filter((e) => e.source === source).map((e) => ({ value: e.profile.id, label: e.profile.name })) }))
    .filter((g) => g.items.length > 0);
  const progress = run ? runProgress(run) : null;
  const banner = run?.verdict ? VERDICT_BANNERS[run.verdict.status] : null;

  return (
    <main className="app-main preflight" aria-labelledby="preflight-title">
      <Stack gap="md" p="lg" maw={1280} mx="auto">
        <Group justify="space-between" wrap="nowrap">
          <div>
            <Title order={1} size="h3" id="preflight-title">
              Network pre-flight
            </Title>
            <Text size="sm" c="dimmed">
              Can this network reach the service? Checks DNS, TCP and TLS or HTTP for every host and port the product needs.
            </Text>
          </div>
          <Button variant="default" onClick={openFleet}>
            {signedIn ? 'Back to the fleet' : 'Back to sign-in'}
          </Button>
        </Group>

        <Paper withBorder p="md" radius="md">
          <form onSubmit={submit}>
            <Group align="flex-end" gap="sm">
              <Select
                label="Profile"
                data={groups}
                value={selectedId}
                onChange={(id) => id && actions.select(id)}
                allowDeselect={false}
                disabled={active}
                w={360}
              />
              <TextInput
                label="Proxy (optional)"
                placeholder="http://proxy.hospital.example:3128"
                value={proxyUrl}
                onChange={(e) => setProxyUrl(e.currentTarget.value)}
                disabled={active}
                w={300}
              />
              {active ? (
                <Button color="red" variant="light" onClick={() => void actions.cancel()} disabled={run?.phase === 'canceling'}>
                  {run?.phase === 'canceling' ? 'Canceling…' : 'Cancel'}
                </Button>
              ) : (
                <Button type="submit" disabled={!selected}>
                  Run
                </Button>
              )}
              <Button variant="default" onClick={() => void exportJson()} disabled={!run || active || run.phase === 'failed'}>
                Export JSON
              </Button>
              <Button variant="default" onClick={() => void printPdf()} disabled={!run || active || run.phase === 'failed'}>
                Print / PDF
              </Button>
            </Group>
          </form>
          <Group gap="xs" mt="sm">
            <Button size="xs" variant="subtle" onClick={() => setEditing({ profile: null })} disabled={active}>
              New profile
            </Button>
            {selected?.source === 'custom' && (
              <>
                <Button size="xs" variant="subtle" onClick={() => setEditing({ profile: selected.profile })} disabled={active}>
                  Edit profile
                </Button>
                <Button size="xs" variant="subtle" color="red" onClick={() => void deleteProfile(selected)} disabled={active}>
                  Delete profile
                </Button>
              </>
            )}
            <Button size="xs" variant="subtle" onClick={() => importInput.current?.click()} disabled={active}>
              Import profile…
            </Button>
            {selected && (
              <Button size="xs" variant="subtle" onClick={() => void exportProfile(selected.profile.id)}>
                Export profile
              </Button>
            )}
            <input ref={importInput} type="file" accept="application/json,.json" hidden aria-label="Profile file to import" onChange={(e) => void importProfile(e.currentTarget.files?.[0])} />
          </Group>
        </Paper>

        {error && (
          <Alert color="red" title="The pre-flight could not start">
            {error}
          </Alert>
        )}
        {run?.phase === 'failed' && (
          <Alert color="red" title="The pre-flight stopped">
            {run.error}
          </Alert>
        )}

        {banner && run?.verdict && (
          <Alert color={banner.color} title={banner.title} role="status">
            <Text size="sm">{run.verdict.headline}</Text>
            {run.verdict.reasons.length > 0 && (
              <List size="sm" mt={6}>
                {run.verdict.reasons.map((reason) => (
                  <List.Item key={reason}>{reason}</List.Item>
                ))}
              </List>
            )}
          </Alert>
        )}

        {run && (
          <Paper withBorder radius="md">
            <Text size="sm" p="sm" aria-live="polite">
              {run.profileName}: {progress?.done} of {progress?.total} checked{active ? '…' : ''}
            </Text>
            <Table striped highlightOnHover aria-label="Pre-flight checks">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Host</Table.Th>
                  <Table.Th>Port</Table.Th>
                  <Table.Th>DNS</Table.Th>
                  <Table.Th>TCP</Table.Th>
                  <Table.Th>TLS / HTTP</Table.Th>
                  <Table.Th>Result</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {run.rows.map((view) => (
                  <Table.Tr key={`${view.host}:${view.port}`} data-level={view.verdict?.level ?? view.status}>
                    <Table.Td>
                      <Text size="sm" ff="monospace">
                        {view.host}
                      </Text>
                    </Table.Td>
                    <Table.Td>{view.port}</Table.Td>
                    <Table.Td>{dnsCell(view.row)}</Table.Td>
                    <Table.Td>{tcpCell(view.row)}</Table.Td>
                    <Table.Td>{sessionCell(view.row)}</Table.Td>
                    <Table.Td>
                      <ResultCell view={view} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Paper>
        )}
      </Stack>
      <PreflightProfileModal
        opened={editing !== null}
        profile={editing?.profile ?? null}
        onClose={() => setEditing(null)}
        onSaved={(saved) => {
          setEditing(null);
          notifySuccess('Pre-flight profile saved', saved.name);
        }}
      />
    </main>
  );
}
