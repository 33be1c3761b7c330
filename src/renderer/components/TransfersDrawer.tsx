import { Badge, Button, Drawer, Group, Indicator, Progress, Stack, Text, Title, Tooltip } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { TransferItem } from '#contract/ipc';
import { describeError } from '../lib/error-messages.ts';
import { downloadHref } from '../lib/local-files.ts';
import { formatDateTime } from '../lib/time-format.ts';
import { useTransfers } from '../stores/context.ts';
import { activeTransferCount, progressShares, splitTransfers, transferAmountsText, transferEndText, transferStatusText } from '../stores/transfer-reducers.ts';
import { DownloadIcon, TransfersIcon, UploadIcon } from './icons.tsx';
import './TransfersDrawer.css';
import { usePendingAction } from '../lib/use-pending-action.ts';

const STATE_COLORS: Record<TransferItem['state'], string> = { queued: 'gray', running: 'blue', paused: 'yellow', completed: 'teal', failed: 'red', canceled: 'gray' };

/** The header's way to the transfers: a button with the count of those still running or waiting. */
export function TransfersButton() {
  const count = useTransfers((s) => activeTransferCount(s.items));
  const load = useTransfers((s) => s.load);
  const setOpen = useTransfers((s) => s.setDrawerOpen);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <Indicator label={count} size={16} disabled={count === 0} offset={4} aria-hidden={count === 0}>
      <Button variant="subtle" color="gray" leftSection={<TransfersIcon size={14} />} onClick={() => setOpen(true)} aria-label={count ? `Transfers, ${count} running` : 'Transfers'}>
        Transfers
      </Button>
    </Indicator>
  );
}

/** One transfer: what, where, how far, and what can be done with it. */
function TransferRow({ item }: { item: TransferItem }) {
  const pause = useTransfers((s) => s.pause);
  const resume = useTransfers((s) => s.resume);
  const cancel = useTransfers((s) => s.cancel);
  const retry = useTransfers((s) => s.retry);
  const { pending, run } = usePendingAction();
  const upload = item.direction === 'to-device';
  const shares = progressShares(item);
  const finished = item.state === 'completed' || item.state === 'failed' || item.state === 'canceled';
  const amounts = transferAmountsText(item);
  const href = downloadHref(item);
  const name = item.fileName;

  return (
    <li className="transfer-row" data-state={item.state} aria-label={`${upload ? 'Upload' : 'Download'} ${name}`}>
      <Group gap={8} wrap="nowrap" justify="space-between">
        <Group gap={6} wrap="nowrap" className="transfer-row__title">
          <Tooltip label={upload ? `To ${item.deviceSerial}` : `From ${item.deviceSerial}`}>
            <span className="transfer-row__direction" data-direction={item.direction} role="img" aria-label={upload ? 'to the device' : 'from the device'}>
              {upload ? <UploadIcon size={13} /> : <DownloadIcon size={13} />}
            </span>
          </Tooltip>
          <Text size="sm" fw={600} truncate="end" title={name}>
            {name}
          </Text>
        </Group>
        <Badge color={STATE_COLORS[item.state]} variant="light" tt="none" className="transfer-row__state">
          {transferStatusText(item)}
        </Badge>
      </Group>
      <Text size="xs" c="dimmed" truncate="end" title={upload ? item.devicePath : (item.localPath ?? item.devicePath)}>
        {item.deviceSerial} · {upload ? `→ ${item.devicePath}` : item.devicePath}
        {!upload && item.localPath ? ` → ${item.localPath}` : ''}
      </Text>
      {!finished && (
        <Progress.Root size="md" className="transfer-row__bar">
          <Progress.Section value={shares.done} color={item.state === 'paused' ? 'yellow' : 'blue'} aria-label={`Progress of ${name}`} animated={item.state === 'running' && item.stage !== 'retrying'} />
          <Progress.Section value={shares.moved} color="blue.3" withAria={false} />
        </Progress.Root>
      )}
      <Group gap={6} justify="space-between" wrap="nowrap">
        <Text size="xs" className="num" c="dimmed">
          {finished ? formatDateTime(item.completedAt) : ''}
          {finished && amounts ? ' · ' : ''}
          {amounts}
        </Text>
        <Group gap={4} wrap="nowrap">
          {(item.state === 'running' || item.state === 'queued') && (
            <Button size="compact-xs" variant="default" loading={pending === 'pause'} onClick={() => void run('pause', `${name} was not paused`, () => pause(item.id))} aria-label={`Pause ${name}`}>
              Pause
            </Button>
          )}
          {item.state === 'paused' && (
            <Button size="compact-xs" variant="default" loading={pending === 'resume'} onClick={() => void run('resume', `${name} was not resumed`, () => resume(item.id))} aria-label={`Resume ${name}`}>
              Resume
            </Button>
          )}
          {item.state === 'failed' && (
            <Button size="compact-xs" variant="default" loading={pending === 'retry'} onClick={() => void run('retry', `${name} was not retried`, () => retry(item.id))} aria-label={`Retry ${name}`}>
              Retry
            </Button>
          )}
          {!finished || item.state === 'failed' ? (
            <Button size="compact-xs" variant="subtle" color="red" loading={pending === 'cancel'} onClick={() => void run('cancel', `${name} was not canceled`, () => cancel(item.id))} aria-label={`Cancel ${name}`}>
              Cancel
            </Button>
          ) : null}
          {href && (
            <Button component="a" href={href} download={item.localPath?.split(/[\\/]/).pop() ?? name} size="compact-xs" variant="light" aria-label={`Save ${name}`}>
              Save
            </Button>
          )}
        </Group>
      </Group>
      {item.error && (item.state === 'failed' || item.state === 'canceled' || item.stage === 'retrying') && (
        <Text size="xs" c={item.state === 'failed' ? 'red' : item.state === 'canceled' ? 'dimmed' : 'orange'}>
          {transferEndText(item, (error) => describeError(error))}
        </Text>
      )}
    </li>
  );
}

/** Every transfer of this console: running and waiting ones with their controls, then the history. */
export function TransfersDrawer() {
  const opened = useTransfers((s) => s.drawerOpen);
  const setOpen = useTransfers((s) => s.setDrawerOpen);
  const items = useTransfers((s) => s.items);
  const error = useTransfers((s) => s.error);
  const { current, history } = splitTransfers(items ?? []);
  // "retrying in 4 s" counts down while shown
  const [, setTick] = useState(0);
  const retrying = current.some((i) => i.stage === 'retrying');
  useEffect(() => {
    if (!opened || !retrying) return;
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, [opened, retrying]);

  return (
    <Drawer opened={opened} onClose={() => setOpen(false)} position="right" size={460} title="Transfers" closeButtonProps={{ 'aria-label': 'Close transfers' }}>
      <Stack gap="md">
        {error && (
          <Text size="xs" c="red">
            The transfers could not be loaded: {error}
          </Text>
        )}
        <section aria-labelledby="transfers-current-title">
          <Title order={2} id="transfers-current-title" className="section-title">
            In progress
          </Title>
          {current.length === 0 ? (
            <Text size="xs" c="dimmed">
              Nothing is being sent or received. Start a transfer from a device's Files tab.
            </Text>
          ) : (
            <ul className="transfer-list" aria-labelledby="transfers-current-title">
              {current.map((item) => (
                <TransferRow key={item.id} item={item} />
              ))}
            </ul>
          )}
        </section>
        {history.length > 0 && (
          <section aria-labelledby="transfers-history-title">
            <Title order={2} id="transfers-history-title" className="section-title">
              History
            </Title>
            <ul className="transfer-list" aria-labelledby="transfers-history-title">
              {history.map((item) => (
                <TransferRow key={item.id} item={item} />
              ))}
            </ul>
          </section>
        )}
      </Stack>
    </Drawer>
  );
}
