import { Alert, Badge, Button, Loader, Paper, Select, Table, Text, Title, Tooltip } from '@mantine/core';
import { type FormEvent, useMemo, useState } from 'react';
import type { CommandView } from '#contract/api/commands';
import type { DeviceDetail } from '#contract/api/fleet';
import type { DiagnosticAction, SessionView } from '#contract/api/sessions';
import { TERMINAL_COMMAND_STATES } from '#contract/common';
import type { CommandProgress } from '#contract/protocol/poll';
import { type DataItemDefinition, DEVICE_MODELS } from '#contract/device-models';
import { commandSpec, isCommandName } from '#contract/protocol/commands';
import { describeError } from '../../lib/error-messages.ts';
import { commandLabel, formatDataValue, formatDiagnosticResult } from '../../lib/format.ts';
import { notifyError } from '../../lib/notify.ts';
import { actionBlockedReason } from '../../lib/permissions.ts';
import { type FieldValue, initialValues, parseParams, schemaFields, withValue } from '../../lib/schema-form.ts';
import { SCOPE_LABELS, controlsWithScope } from '../../lib/session-format.ts';
import { formatTime } from '../../lib/time-format.ts';
import { useDevice, useDiagnostics, useServiceSessions, useSession } from '../../stores/context.ts';
import { openSessionOf, roleIn } from '../../stores/service-session-reducers.ts';
import { COMMAND_STATE_COLORS } from './command-states.ts';
import { DiagnosticForm } from './DiagnosticForm.tsx';
import { DiagnosticRun } from './DiagnosticRun.tsx';
import './DiagnosticsTab.css';

const isFinished = (command: CommandView) => TERMINAL_COMMAND_STATES.includes(command.state);

interface ActionFormProps {
  action: DiagnosticAction;
  items: readonly DataItemDefinition[];
  /** Why Run is not possible now, or null. */
  runBlocked: string | null;
  onRun: (params: Record<string, unknown>) => Promise<void>;
}

/** The generated parameter form of one action and its Run button; Enter runs it too. */
function ActionForm({ action, items, runBlocked, onRun }: ActionFormProps) {
  const fields = useMemo(() => schemaFields(action.paramsSchema), [action]);
  const [values, setValues] = useState(() => initialValues(fields));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [starting, setStarting] = useState(false);

  const change = (name: string, value: FieldValue) => {
    setValues((v) => withValue(fields, v, name, value, items));
    setErrors((e) => ({ ...e, [name]: '' }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (runBlocked) return;
    const parsed = parseParams(fields, values, items);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setStarting(true);
    try {
      await onRun(parsed.params);
    } finally {
      setStarting(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="diagnostics-tab__params">
      <DiagnosticForm fields={fields} values={values} errors={errors} items={items} onChange={change} />
      <Tooltip label={runBlocked} disabled={!runBlocked}>
        <span className="diagnostics-tab__run-button">
          <Button type="submit" disabled={runBlocked !== null} loading={starting}>
            Run
          </Button>
        </span>
      </Tooltip>
    </form>
  );
}

/** "Hours of logs: 168, Include operating-system logs: No", with the schema's labels. */
function paramsText(command: CommandView, action: DiagnosticAction | undefined): string {
  const labels = new Map((action ? schemaFields(action.paramsSchema) : []).map((f) => [f.name, f.label]));
  const entries = Object.entries(command.params);
  if (entries.length === 0) return '—';
  return entries.map(([k, v]) => `${labels.get(k) ?? k}: ${typeof v === 'object' ? JSON.stringify(v) : formatDataValue(v as string | number | boolean)}`).join(', ');
}

/** A run's outcome in a few words, for the history table; `progress` is the live one while it runs. */
function outcomeText(command: CommandView, progress: CommandProgress | null): string {
  if (!isFinished(command)) return progress ? `${Math.round(progress.percent)} %${progress.message ? ` — ${progress.message}` : ''}` : '…';
  if (command.state === 'succeeded') {
    const result = formatDiagnosticResult(command.result);
    if (result.kind === 'checks') {
      const failed = result.checks.filter((c) => !c.passed).length;
      return failed ? `${failed} of ${result.checks.length} checks failed` : `All ${result.checks.length} checks passed`;
    }
    return result.kind === 'entries' ? result.entries.map(([k, v]) => `${k}: ${v}`).join(', ') : 'Done';
  }
  return command.error ? describeError(command.error) : command.state;
}

/** Why the user cannot run diagnostics in this session, or null when they can. */
function runBlockedReason(session: SessionView | null, userId: string | null, action: DiagnosticAction, blocked: string | null, running: boolean): string | null {
  if (blocked) return blocked;
  if (!isCommandName(action.name)) return 'This console does not know this action yet; update the console to run it';
  if (!controlsWithScope(session, userId, action.scope)) return `Needs an active session with the ${SCOPE_LABELS[action.scope]} scope`;
  return running ? 'Wait for the running action to finish, or cancel it' : null;
}

/**
 * Remote diagnostics in the device's service session: choose an action, fill in the form
 * generated from its parameter schema, run it and watch its progress and output stream in;
 * below, what else ran in the session.
 */
export function DiagnosticsTab({ detail }: { detail: DeviceDetail }) {
  const actions = useDiagnostics((s) => s.actions);
  const outputs = useDiagnostics((s) => s.outputs);
  const sessions = useServiceSessions((s) => s.sessions);
  const commands = useDevice((s) => s.commands.items);
  const sendCommand = useDevice((s) => s.sendCommand);
  const user = useSession((s) => (s.session?.signedIn ? s.session.user : null));
  const [chosen, setChosen] = useState<string | null>(null);
  const [shownId, setShownId] = useState<string | null>(null);

  const userId = user?.id ?? null;
  const items = DEVICE_MODELS[detail.modelId].dataItems;
  const action = actions.items?.find((a) => a.name === chosen) ?? actions.items?.[0] ?? null;
  const open = openSessionOf(sessions);
  // the open session, else the last one: what just ended (and why) stays in view
  const focus = open ?? sessions?.[0] ?? null;
  const role = focus ? roleIn(focus, userId) : null;
  const runs = useMemo(() => (focus && commands ? commands.filter((c) => c.sessionId === focus.id && commandSpec(c.name).scope === 'diagnose') : []), [focus, commands]);
  const shown = runs.find((r) => r.id === shownId) ?? runs[0] ?? null;
  const running = runs.some((r) => !isFinished(r));

  const run = async (params: Record<string, unknown>) => {
    if (!action || !open || !isCommandName(action.name)) return;
    try {
      const id = await sendCommand(action.name, params, open.id);
      setShownId(id);
    } catch (err) {
      notifyError(`${action.label} was not started`, err);
    }
  };

  const actionOptions = (actions.items ?? []).map((a) => ({ value: a.name, label: a.label }));
  const descriptions = new Map((actions.items ?? []).map((a) => [a.name, a.description]));

  return (
    <div className="diagnostics-tab">
      <Paper withBorder p="sm" className="diagnostics-tab__form">
        {actions.error && (
          <Alert color="red" title="The diagnostic actions could not be loaded" mb="sm">
            {actions.error}
          </Alert>
        )}
        {!actions.items && !actions.error && <Loader size="xs" aria-label="Loading diagnostic actions" />}
        {actions.items && actions.items.length === 0 && (
          <Text size="sm" c="dimmed">
            This model offers no remote diagnostics.
          </Text>
        )}
        {action && (
          <>
            <Select
              label="Action"
              data={actionOptions}
              value={action.name}
              onChange={(v) => setChosen(v)}
              description={action.description}
              inputWrapperOrder={['label', 'input', 'description']}
              renderOption={({ option }) => (
                <div>
                  <Text size="xs">{option.label}</Text>
                  <Text size="xs" c="dimmed">
                    {descriptions.get(option.value)}
                  </Text>
                </div>
              )}
              comboboxProps={{ width: 360, position: 'bottom-start' }}
              maxDropdownHeight={420}
              maw={300}
              mb="sm"
            />
            {role === 'observer' || (role === null && open?.state === 'active') ? (
              <Text size="xs" c="dimmed">
                {focus?.engineer.displayName} is in control of this session: only they can run diagnostics. You see their runs as they happen.
              </Text>
            ) : (
              <ActionForm key={action.name} action={action} items={items} runBlocked={runBlockedReason(open, userId, action, actionBlockedReason(user?.role), running)} onRun={run} />
            )}
          </>
        )}
      </Paper>
      <div className="diagnostics-tab__current">
        {shown ? (
          <DiagnosticRun key={shown.id} command={shown} output={outputs[shown.id]} canCancel={role === 'controller' && open?.id === shown.sessionId} />
        ) : (
          <Text size="sm" c="dimmed" p="xs">
            {open?.state !== 'active'
              ? 'Diagnostics run in an active service session. Request one above; its runs and their output show here.'
              : role === 'controller'
                ? 'Nothing has run in this session yet: choose an action and Run.'
                : 'Nothing has run in this session yet.'}
          </Text>
        )}
      </div>
      {runs.length > 0 && (
        <section className="diagnostics-tab__history" aria-labelledby="diagnostics-history-title">
          <Title order={2} id="diagnostics-history-title" className="section-title">
            {open ? 'Diagnostics in this session' : 'Diagnostics in the last session'}
          </Title>
          <Table aria-labelledby="diagnostics-history-title">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={190}>Action</Table.Th>
                <Table.Th>Parameters</Table.Th>
                <Table.Th w={110}>State</Table.Th>
                <Table.Th w={80}>Started</Table.Th>
                <Table.Th>Outcome</Table.Th>
                <Table.Th w={70} aria-label="Show" />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {runs.map((command) => (
                <Table.Tr key={command.id} data-selected={command.id === shown?.id || undefined}>
                  <Table.Td>{commandLabel(command.name)}</Table.Td>
                  <Table.Td className="diagnostics-tab__cell-clip">{paramsText(command, actions.items?.find((a) => a.name === command.name))}</Table.Td>
                  <Table.Td>
                    <Badge color={COMMAND_STATE_COLORS[command.state]} tt="none">
                      {command.state}
                    </Badge>
                  </Table.Td>
                  <Table.Td className="num">{formatTime(command.createdAt)}</Table.Td>
                  <Table.Td className="diagnostics-tab__cell-clip">{outcomeText(command, outputs[command.id]?.progress ?? command.progress)}</Table.Td>
                  <Table.Td ta="right">
                    {command.id !== shown?.id && (
                      <Button variant="subtle" size="compact-xs" onClick={() => setShownId(command.id)} aria-label={`Show ${commandLabel(command.name)} started ${formatTime(command.createdAt)}`}>
                        Show
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </section>
      )}
    </div>
  );
}
