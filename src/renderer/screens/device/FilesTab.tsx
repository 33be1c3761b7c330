import { Alert, Anchor, Breadcrumbs, Button, Checkbox, FileButton, Group, Loader, Modal, Table, Text } from '@mantine/core';
import { type DragEvent, useEffect, useState } from 'react';
import type { DeviceDetail } from '#contract/api/fleet';
import type { SessionView } from '#contract/api/sessions';
import type { FileEntry } from '#contract/transfers';
import { FileIcon, FolderIcon } from '../../components/icons.tsx';
import { formatBytes } from '../../lib/format.ts';
import { uploadSourceOf } from '../../lib/local-files.ts';
import { notifyError, notifySuccess } from '../../lib/notify.ts';
import type { ScopedWork } from '../../lib/session-format.ts';
import { formatDateTime } from '../../lib/time-format.ts';
import { useBridge, useFiles, useTransfers } from '../../stores/context.ts';
import { breadcrumbOf } from '../../stores/files-store.ts';
import { RequestSessionModal } from './RequestSessionModal.tsx';
import { useScopeGate } from './use-scope-gate.ts';
import './FilesTab.css';

const FILES_SCOPE = ['files'] as const;

const FILE_WORK: ScopedWork = {
  scope: 'files',
  needs: 'Browsing and transferring files',
  whenActive: 'the files appear here once the session is active',
  controllerOnly: 'work with the device’s files',
};

/**
 * The device's files, inside a service session with the Files scope: browse the allowed
 * folders, tick files and download them, upload with the picker or by dropping files on
 * the folder. Outside such a session, it says why and offers to request one.
 */
export function FilesTab({ detail }: { detail: DeviceDetail }) {
  const { loaded, session, reason } = useScopeGate(FILE_WORK, detail);
  const [requesting, setRequesting] = useState(false);

  if (!loaded) return <Loader size="xs" aria-label="Loading sessions" />;
  if (reason || !session) {
    return (
      <div className="files-tab__blocked">
        <Alert color="gray" title="No file access" maw={640}>
          <Text size="sm">{reason?.text}</Text>
          {reason?.canRequest && (
            <Button mt="sm" onClick={() => setRequesting(true)}>
              Request session
            </Button>
          )}
        </Alert>
        <RequestSessionModal opened={requesting} onClose={() => setRequesting(false)} deviceName={detail.serial} onRequested={() => setRequesting(false)} initialScopes={FILES_SCOPE} />
      </div>
    );
  }
  return <FileBrowser key={session.id} detail={detail} session={session} />;
}

/** The file names in `files` that the folder already holds. */
function collisions(files: readonly File[], entries: readonly FileEntry[] | null): string[] {
  const taken = new Set((entries ?? []).filter((e) => e.type === 'file').map((e) => e.name));
  return files.map((f) => f.name).filter((name) => taken.has(name));
}

function FileBrowser({ detail, session }: { detail: DeviceDetail; session: SessionView }) {
  const bridge = useBridge();
  const openFiles = useFiles((s) => s.open);
  const path = useFiles((s) => s.path);
  const entries = useFiles((s) => s.entries);
  const loading = useFiles((s) => s.loading);
  const error = useFiles((s) => s.error);
  const selected = useFiles((s) => s.selected);
  const browse = useFiles((s) => s.browse);
  const toggle = useFiles((s) => s.toggle);
  const selectAll = useFiles((s) => s.selectAll);
  const upload = useTransfers((s) => s.upload);
  const download = useTransfers((s) => s.download);
  const setDrawerOpen = useTransfers((s) => s.setDrawerOpen);
  const running = useTransfers((s) => s.items?.filter((i) => i.deviceId === detail.id && (i.state === 'running' || i.state === 'queued')).length ?? 0);
  const [dragging, setDragging] = useState(false);
  const [starting, setStarting] = useState<'upload' | 'download' | null>(null);
  const [replace, setReplace] = useState<{ files: File[]; names: string[] } | null>(null);
  const electron = bridge.pathForFile !== undefined;
  const inFolder = path !== '/';
  const files = (entries ?? []).filter((e) => e.type === 'file');
  const allChecked = files.length > 0 && files.every((f) => selected.has(f.path));

  // coming back to the tab lists the folder shown again (the device screen forgets it when it closes)
  useEffect(() => {
    void openFiles(detail.id, session.id);
  }, [detail.id, session.id, openFiles]);

  /** Sends files into the folder shown; `overwrite` replaces same-named files there. */
  const send = async (chosen: readonly (File | string)[], overwrite: boolean) => {
    setStarting('upload');
    let started = 0;
    try {
      for (const file of chosen) {
        const name = typeof file === 'string' ? file.split(/[\\/]/).pop()! : file.name;
        try {
          const source = typeof file === 'string' ? { localPath: file } : await uploadSourceOf(bridge, file);
          await upload({ deviceId: detail.id, sessionId: session.id, devicePath: `${path}/`, overwrite, ...source });
          started += 1;
        } catch (err) {
          notifyError(`${name} was not sent`, err);
        }
      }
    } finally {
      setStarting(null);
    }
    if (started) notifySuccess(started === 1 ? 'Upload started' : `${started} uploads started`, `To ${path} on ${detail.serial}; follow them in Transfers.`);
  };

  /** Files from the picker or a drop: asks first if any would replace a file of the same name. */
  const offer = (chosen: File[]) => {
    if (chosen.length === 0 || !inFolder) return;
    const names = collisions(chosen, entries);
    if (names.length) setReplace({ files: chosen, names });
    else void send(chosen, false);
  };

  const pickInElectron = async () => {
    try {
      const { paths } = await bridge.invoke('dialog.pickFiles', {});
      if (paths.length) await send(paths, false);
    } catch (err) {
      notifyError('The files were not sent', err);
    }
  };

  const downloadSelected = async (saveDir?: string) => {
    const devicePaths = [...selected];
    setStarting('download');
    try {
      await download({ deviceId: detail.id, sessionId: session.id, devicePaths, ...(saveDir ? { saveDir } : {}) }, { saveInBrowser: !electron });
      selectAll(false);
      notifySuccess(devicePaths.length === 1 ? 'Download started' : `${devicePaths.length} downloads started`, `From ${detail.serial}; follow them in Transfers.`);
    } catch (err) {
      notifyError('The download did not start', err);
    } finally {
      setStarting(null);
    }
  };

  const downloadTo = async () => {
    const { path: folder } = await bridge.invoke('dialog.pickFolder', {});
    if (folder) await downloadSelected(folder);
  };

  const onDragOver = (event: DragEvent) => {
    if (!inFolder || !event.dataTransfer.types.includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    setDragging(true);
  };
  const onDrop = (event: DragEvent) => {
    if (!inFolder) return;
    event.preventDefault();
    setDragging(false);
    offer([...event.dataTransfer.files]);
  };

  return (
    <div className="files-tab">
      <div className="files-tab__toolbar">
        <nav aria-label="Folder" className="files-tab__crumbs">
          <Breadcrumbs separator="/">
            {breadcrumbOf(path).map((crumb, i, all) =>
              i === all.length - 1 ? (
                <Text key={crumb.path} size="sm" fw={600} aria-current="location">
                  {crumb.label}
                </Text>
              ) : (
                <Anchor key={crumb.path} component="button" type="button" size="sm" onClick={() => void browse(crumb.path)}>
                  {crumb.label}
                </Anchor>
              ),
            )}
          </Breadcrumbs>
        </nav>
        <Group gap="xs" wrap="nowrap">
          {running > 0 && (
            <Button variant="subtle" onClick={() => setDrawerOpen(true)}>
              {running === 1 ? '1 transfer running' : `${running} transfers running`}
            </Button>
          )}
          {electron ? (
            <Button variant="default" disabled={!inFolder} loading={starting === 'upload'} onClick={() => void pickInElectron()}>
              Upload…
            </Button>
          ) : (
            <FileButton multiple onChange={(chosen) => offer(chosen)} inputProps={{ 'aria-label': 'Files to upload' }}>
              {(props) => (
                <Button {...props} variant="default" disabled={!inFolder} loading={starting === 'upload'}>
                  Upload…
                </Button>
              )}
            </FileButton>
          )}
          <Button disabled={selected.size === 0} loading={starting === 'download'} onClick={() => void downloadSelected()}>
            {selected.size > 0 ? `Download selected (${selected.size})` : 'Download selected'}
          </Button>
          {electron && (
            <Button variant="default" disabled={selected.size === 0} onClick={() => void downloadTo()}>
              Download to…
            </Button>
          )}
        </Group>
      </div>
      <div
        className="files-tab__drop"
        data-dragging={dragging || undefined}
        onDragOver={onDragOver}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        aria-label={inFolder ? `Files in ${path}; drop files here to upload them` : 'Folders of the device'}
        role="region"
      >
        {error && (
          <Alert color="red" title="The folder could not be listed" mb="sm">
            {error}
          </Alert>
        )}
        {!entries && loading && (
          <Group gap="xs" p="xs">
            <Loader size="xs" />
            <Text size="xs" c="dimmed">
              Asking the device…
            </Text>
          </Group>
        )}
        {entries && (
          <Table aria-label={`Contents of ${path}`} className="files-tab__table" highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={36}>
                  <Checkbox size="xs" aria-label="Select all files" checked={allChecked} indeterminate={!allChecked && files.some((f) => selected.has(f.path))} disabled={files.length === 0} onChange={(e) => selectAll(e.currentTarget.checked)} />
                </Table.Th>
                <Table.Th>Name</Table.Th>
                <Table.Th w={110} ta="right">
                  Size
                </Table.Th>
                <Table.Th w={170}>Modified</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {entries.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={4}>
                    <Text size="xs" c="dimmed">
                      This folder is empty.{inFolder ? ' Drop files here to upload them.' : ''}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              )}
              {entries.map((entry) => (
                <Table.Tr key={entry.path} data-selected={selected.has(entry.path) || undefined}>
                  <Table.Td>{entry.type === 'file' && <Checkbox size="xs" aria-label={`Select ${entry.name}`} checked={selected.has(entry.path)} onChange={() => toggle(entry.path)} />}</Table.Td>
                  <Table.Td>
                    <Group gap={6} wrap="nowrap">
                      <span className="files-tab__icon">{entry.type === 'directory' ? <FolderIcon size={14} /> : <FileIcon size={14} />}</span>
                      {entry.type === 'directory' ? (
                        <Anchor component="button" type="button" size="sm" onClick={() => void browse(entry.path)} aria-label={`Open folder ${entry.name}`}>
                          {entry.name}
                        </Anchor>
                      ) : (
                        <Text size="sm" className="files-tab__name" onClick={() => toggle(entry.path)}>
                          {entry.name}
                        </Text>
                      )}
                    </Group>
                  </Table.Td>
                  <Table.Td ta="right" className="num">
                    {entry.type === 'file' ? formatBytes(entry.size) : '—'}
                  </Table.Td>
                  <Table.Td className="num">{formatDateTime(entry.modifiedAt)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {loading && entries && <Loader size="xs" className="files-tab__refreshing" aria-label="Updating the folder" />}
        {dragging && (
          <div className="files-tab__drop-hint" aria-hidden="true">
            Drop to upload to {path}
          </div>
        )}
      </div>
      <Modal opened={replace !== null} onClose={() => setReplace(null)} title="Replace files on the device?" size="md">
        <Text size="sm">
          {path} already holds {replace?.names.length === 1 ? 'a file' : 'files'} named {replace?.names.join(', ')}. Replace {replace?.names.length === 1 ? 'it' : 'them'} with yours?
        </Text>
        <Group justify="flex-end" mt="md" gap="xs">
          <Button variant="default" onClick={() => setReplace(null)}>
            Cancel
          </Button>
          <Button
            color="orange"
            onClick={() => {
              const chosen = replace?.files ?? [];
              setReplace(null);
              void send(chosen, true);
            }}
          >
            Replace
          </Button>
        </Group>
      </Modal>
    </div>
  );
}
