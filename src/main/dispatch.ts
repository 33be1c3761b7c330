import { TetherError } from '#contract/errors';
import {
  IPC_CALLS,
  IPC_EVENTS,
  type IpcCallName,
  type IpcError,
  type IpcEventName,
  type IpcEventPayload,
  type IpcOutput,
  type IpcParsedInput,
  isIpcCallName,
} from '#contract/ipc';

/** The main process's implementation of every call of the contract. */
export type IpcHandlers = {
  [K in IpcCallName]: (input: IpcParsedInput<K>) => Promise<IpcOutput<K>> | IpcOutput<K>;
};

/**
 * One domain's part of the table: the calls whose names start with one of `Prefix`
 * (`HandlerSlice<'fleet.' | 'alarms.'>`). Each domain hands its slice to composition.ts,
 * which joins them under `satisfies IpcHandlers`.
 */
export type HandlerSlice<Prefix extends string> = Pick<IpcHandlers, Extract<IpcCallName, `${Prefix}${string}`>>;

export type DispatchResult = { ok: true; output: unknown } | { ok: false; error: IpcError };

/**
 * Runs one call for either transport: the channel must exist in the table, the input
 * must pass its schema, and the output is checked too (so main never leaks a field the
 * contract does not name). Failures come back as values with an ErrorCode.
 */
export async function dispatchCall(
  handlers: IpcHandlers,
  call: unknown,
  input: unknown,
  onInternalError: (err: unknown, call: string) => void = () => undefined,
): Promise<DispatchResult> {
  if (!isIpcCallName(call)) {
    return { ok: false, error: { code: 'UNKNOWN_CHANNEL', message: `no such call: ${String(call).slice(0, 64)}` } };
  }
  const spec = IPC_CALLS[call];
  const parsed = spec.input.safeParse(input ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
    return { ok: false, error: { code: 'VALIDATION_FAILED', message: `invalid input for ${call} — ${detail}` } };
  }
  try {
    const handler = handlers[call] as (input: unknown) => unknown;
    const output = await handler(parsed.data);
    const checked = spec.output.safeParse(output);
    if (!checked.success) {
      onInternalError(checked.error, call);
      return { ok: false, error: { code: 'INTERNAL', message: `${call} produced an answer outside the contract` } };
    }
    return { ok: true, output: checked.data };
  } catch (err) {
    if (err instanceof TetherError) {
      return { ok: false, error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
    }
    onInternalError(err, call);
    return { ok: false, error: { code: 'INTERNAL', message: `${call} failed unexpectedly; see the console log` } };
  }
}

/** Something main can push events to (a window, a browser-mode socket, a test). */
export type EventTarget = (event: IpcEventName, payload: unknown) => void;

/**
 * Fan-out of main → renderer events to every attached target, each payload validated
 * against the contract before it leaves.
 */
export class EventHub {
  private readonly targets = new Set<EventTarget>();

  attach(target: EventTarget): () => void {
    this.targets.add(target);
    return () => this.targets.delete(target);
  }

  emit<E extends IpcEventName>(event: E, payload: IpcEventPayload<E>): void {
    const checked = IPC_EVENTS[event].safeParse(payload);
    if (!checked.success) throw new TetherError('INTERNAL', `event ${event} does not match the contract: ${checked.error.message}`);
    for (const target of this.targets) target(event, checked.data);
  }
}
