import { Alert, Badge, Button, Code, Group, Progress, Table, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { CommandView } from '#contract/api/commands';
import { TERMINAL_COMMAND_STATES } from '#contract/common';
import { OutputLog } from '../../components/OutputLog.tsx';
import { describeError } from '../../lib/error-messages.ts';
import { commandLabel, formatDiagnosticResult } from '../../lib/format.ts';
import { notifyError } from '../../lib/notify.ts';
import { formatTime } from '../../lib/time-format.ts';
import type { CommandOutput } from '../../stores/command-output.ts';
import { useDevice, useDiagnostics } from '../../stores/context.ts';
import { COMMAND_STATE_COLORS } from './command-states.ts';

const WAITING_TEXT: Partial<Record<CommandView['state'], string>> = {
  queued: 'Waiting for the device to pick it up…',
  delivered: 'The device has it; starting…',
};

/** What a diagnostic found: a self-test's checks, label/value lines, or JSON. */
function DiagnosticResult({ result }: { result: unknown }) {
  const shown = formatDiagnosticResult(result);
  if (shown.kind === 'checks') {
    return (
      <>
        {shown.passed !== null && (
          <Text size="sm" fw={600} c={shown.passed ? 'teal' : 'red'} mb={4}>
            {shown.passed ? `All ${shown.checks.length} checks passed` : `${shown.checks.filter((c) => !c.passed).length} of ${shown.checks.length} checks failed`}
          </Text>
        )}
        <Table aria-label="Checks" className="diagnostic-run__checks">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Check</Table.Th>
              <Table.Th w={70}>Result</Table.Th>
              <Table.Th>Detail</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {shown.checks.map((check) => (
              <Table.Tr key={check.name}>
                <Table.Td>{check.name}</Table.Td>
                <Table.Td>
                  <Badge color={check.passed ? 'teal' : 'red'} variant={check.passed ? 'light' : 'filled'} tt="none">
                    {check.passed ? 'Pass' : 'Fail'}
                  </Badge>
                </Table.Td>
                <Table.Td>{check.detail}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </>
    );
  }
  if (shown.kind === 'json') return <Code block>{shown.text}</Code>;
  return (
    <dl className="kv" aria-label="Result">
      {shown.entries.map(([label, value]) => (
        <div key={label} className="kv__item">
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

interface DiagnosticRunProps {
  command: CommandView;
  output: CommandOutput | undefined;
  /** Whether this user may stop it (the engineer in control). */
  canCancel: boolean;
}

/**
 * One diagnostic as it runs and after: its state, progress, streaming output (caught up
 * from the server when opened), a Cancel button, and in the end its result or why it did
 * not finish.
 */
export function DiagnosticRun({ command, output, canCancel }: DiagnosticRunProps) {
  const catchUp = useDiagnostics((s) => s.catchUp);
  const cancelCommand = useDevice((s) => s.cancelCommand);
  const [canceling, setCanceling] = useState(false);
  const finished = TERMINAL_COMMAND_STATES.includes(command.state);
  const progress = output?.progress ?? command.progress;
  const percent = command.state === 'succeeded' ? 100 : Math.round(progress?.percent ?? 0);

  useEffect(() => {
    void catchUp(command.id);
  }, [catchUp, command.id, finished]);

  const cancel = async () => {
    setCanceling(true);
    try {
      await cancelCommand(command.id);
    } catch (err) {
      notifyError(`${commandLabel(command.name)} was not canceled`, err);
    } finally {
      setCanceling(false);
    }
  };

  return (
    <section className="diagnostic-run" aria-label={`${commandLabel(command.name)} run`}>
      <Group justify="space-between" gap="xs" wrap="nowrap" mb={6}>
        <Group gap="xs" wrap="nowrap">
          <Text size="sm" fw={600}>
            {commandLabel(command.name)}
          </Text>
          <Badge color={COMMAND_STATE_COLORS[command.state]} tt="none" aria-label={`State: ${command.state}`}>
            {command.state}
          </Badge>
          <Text size="xs" c="dimmed" className="num">
            started {formatTime(command.createdAt)} by {command.createdBy}
          </Text>
        </Group>
        {!finished && canCancel && (
          <Button variant="default" color="red" loading={canceling} onClick={() => void cancel()}>
            Cancel
          </Button>
        )}
      </Group>
      {(!finished || progress) && (
        <div className="diagnostic-run__progress">
          <Progress value={percent} aria-label="Progress" animated={command.state === 'running'} size="md" />
          <Text size="xs" c="dimmed" className="num" aria-live="polite">
            {finished ? `${percent} %` : (WAITING_TEXT[command.state] ?? `${percent} % ${progress?.message ? `— ${progress.message}` : ''}`)}
          </Text>
        </div>
      )}
      <OutputLog lines={output?.lines ?? []} placeholder={finished ? 'No output.' : 'Output appears here as the device reports it.'} />
      {finished && (
        <div className="diagnostic-run__outcome">
          {command.state === 'succeeded' ? (
            <DiagnosticResult result={command.result} />
          ) : (
            <Alert color={command.state === 'failed' ? 'red' : 'orange'} title={`${commandLabel(command.name)} ${command.state}`}>
              {command.error ? describeError(command.error) : command.state === 'canceled' ? 'Canceled before it finished.' : 'The device did not answer in time.'}
            </Alert>
          )}
        </div>
      )}
    </section>
  );
}
