import { z } from 'zod';
import { DeviceModelIdSchema } from './api/fleet.ts';
import { IdSchema, SerialSchema } from './common.ts';
import { ErrorCodeSchema, TetherError } from './errors.ts';
import { OperatorStateSchema } from './ipc.ts';
import { ConsentDecisionSchema, ConsentRequestSchema, SessionRevocationSchema } from './protocol/poll.ts';
import { DEVICE_FAULTS, SIM_FAULTS } from './sim-faults.ts';

/**
 * The offline simulator's control protocol (`npm run sim`), declared once for both ends:
 * the console (or a person at a terminal) sends one command per line — JSON, or plain
 * words for a person — and the simulator answers each with an `ack` or an `error` line,
 * besides its unsolicited `ready`, `operator` and `stopped` lines. A command may carry a
 * numeric `id`, echoed in its answer: answers can come out of order.
 *
 *   fault SERIAL FAULT [SECONDS]   {"cmd":"fault","serial":"…","fault":"pressure-fault","durationMs":5000,"id":7}
 *   clear SERIAL                   {"cmd":"clear","serial":"…"}
 *   list                           {"cmd":"list"}
 *   consents [SERIAL]              {"cmd":"consents","serial":"…"}
 *       consent requests waiting (all devices without SERIAL), each with remainingSeconds
 *   approve SERIAL [SESSION_ID] [--as NAME]
 *                                  {"cmd":"approve","serial":"…","sessionId":"…","as":"Pat Biomed"}
 *   deny SERIAL [SESSION_ID] [--as NAME]
 *                                  {"cmd":"deny","serial":"…","sessionId":"…"}
 *   sessions [SERIAL]              {"cmd":"sessions","serial":"…"}
 *       active sessions with controller, observers, scopes and remainingSeconds
 *   revoke SERIAL [SESSION_ID] [--as NAME]
 *                                  {"cmd":"revoke","serial":"…","sessionId":"…"}
 *   operator SERIAL                {"cmd":"operator","serial":"…"}
 *       what the device's operator sees: {serial, consents, sessions}
 *   stop                           {"cmd":"stop"}
 * Without SESSION_ID, the one request (or session) on that device is meant; none or several
 * is an error naming them. NAME (the operator, default "Device operator") may contain spaces.
 */

/** What a control command may carry to have its answer told apart from the others. */
const SimControlIdSchema = z.number().int();

/** A fault the simulator can inject, refused by name when it does not know it. */
export const SimFaultSchema = z.enum(SIM_FAULTS, {
  error: (issue) => (issue.input === undefined ? undefined : `unknown fault "${String(issue.input)}" (${SIM_FAULTS.join(', ')})`),
});

/** Who the operator at the device says they are (as ConsentDecision's operator); blank means the default. */
const OperatorNameSchema = z.string().max(128);

/** A command acting as the operator at one device: without sessionId, the one request (or session) there is meant. */
const operatorCommand = <C extends string>(cmd: C) =>
  z.object({ cmd: z.literal(cmd), id: SimControlIdSchema.optional(), serial: SerialSchema, sessionId: IdSchema.optional(), as: OperatorNameSchema.optional() });

/** Each control command's fields, by `cmd` (in the order a refusal lists them). */
const SIM_CONTROL_COMMANDS = [
  z.object({
    cmd: z.literal('fault'),
    id: SimControlIdSchema.optional(),
    serial: SerialSchema,
    fault: SimFaultSchema,
    /** How long a network flap lasts (the fleet's default without it). */
    durationMs: z.number().positive('must be a positive number of milliseconds').optional(),
  }),
  z.object({ cmd: z.literal('clear'), id: SimControlIdSchema.optional(), serial: SerialSchema }),
  z.object({ cmd: z.literal('list'), id: SimControlIdSchema.optional() }),
  /** Consent requests waiting: on one device, or on all without serial. */
  z.object({ cmd: z.literal('consents'), id: SimControlIdSchema.optional(), serial: SerialSchema.optional() }),
  operatorCommand('approve'),
  operatorCommand('deny'),
  /** Active sessions: on one device, or on all without serial. */
  z.object({ cmd: z.literal('sessions'), id: SimControlIdSchema.optional(), serial: SerialSchema.optional() }),
  operatorCommand('revoke'),
  /** What the operator at one device sees. */
  z.object({ cmd: z.literal('operator'), id: SimControlIdSchema.optional(), serial: SerialSchema }),
  z.object({ cmd: z.literal('stop'), id: SimControlIdSchema.optional() }),
] as const;
const COMMAND_NAMES = SIM_CONTROL_COMMANDS.map((command) => command.shape.cmd.value).join(', ');

/** Every control command the simulator takes, by `cmd`. */
export const SimControlCommandSchema = z.discriminatedUnion('cmd', SIM_CONTROL_COMMANDS, {
  error: (issue) => {
    if (issue.code !== 'invalid_union') return undefined;
    const cmd = (issue.input as { cmd?: unknown } | undefined)?.cmd;
    return `${cmd === undefined ? 'missing command' : `unknown command "${String(cmd)}"`} (${COMMAND_NAMES})`;
  },
});
export type SimControlCommand = z.infer<typeof SimControlCommandSchema>;

/** One control line read: the command, or why it is refused and the id to answer with, when one was given. */
export type SimControlParse = { success: true; command: SimControlCommand } | { success: false; error: TetherError; id?: number };

/** Checks anything offered as a control command; a refusal names each field that is wrong. */
function parseSimControlCommand(value: unknown): SimControlParse {
  const parsed = SimControlCommandSchema.safeParse(value, { reportInput: true });
  if (parsed.success) return { success: true, command: parsed.data };
  const message = parsed.error.issues
    .map((issue) => {
      const what = issue.input === undefined ? 'required' : issue.message;
      return issue.path.length ? `${issue.path.join('.')}: ${what}` : what;
    })
    .join('; ');
  const id = SimControlIdSchema.safeParse((value as { id?: unknown } | null)?.id);
  return { success: false, error: new TetherError('VALIDATION_FAILED', message), ...(id.success ? { id: id.data } : {}) };
}

/**
 * Reads one control line: JSON when it starts with "{", else plain words for a person,
 * which make the same command object (the table above).
 */
export function parseSimControlLine(line: string): SimControlParse {
  const text = line.trim();
  if (!text.startsWith('{')) return parseSimControlWords(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { success: false, error: new TetherError('VALIDATION_FAILED', `not JSON: ${(err as Error).message}`) };
  }
  return parseSimControlCommand(json);
}

/** Plain words, turned into the object the same command has in JSON. */
function parseSimControlWords(text: string): SimControlParse {
  const words = text.split(/\s+/);
  const asAt = words.indexOf('--as');
  const as = asAt >= 0 ? words.slice(asAt + 1).join(' ') : '';
  const [cmd = '', first, second, third] = asAt >= 0 ? words.slice(0, asAt) : words;
  switch (cmd) {
    case 'fault': {
      const seconds = third === undefined ? undefined : Number(third);
      if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0)) {
        return { success: false, error: new TetherError('VALIDATION_FAILED', `fault SECONDS must be a positive number, got "${third}"`) };
      }
      return parseSimControlCommand({ cmd, serial: first, fault: second, ...(seconds === undefined ? {} : { durationMs: seconds * 1000 }) });
    }
    case 'approve':
    case 'deny':
    case 'revoke':
      return parseSimControlCommand({ cmd, serial: first, ...(second === undefined ? {} : { sessionId: second }), ...(as ? { as } : {}) });
    case 'list':
    case 'stop':
      return parseSimControlCommand({ cmd });
    default:
      return parseSimControlCommand({ cmd, ...(first === undefined ? {} : { serial: first }) });
  }
}

/** The fields every acknowledgement starts with: the command it answers, and that command's id. */
const ack = <C extends SimControlCommand['cmd']>(cmd: C) => ({ event: z.literal('ack'), id: SimControlIdSchema.optional(), cmd: z.literal(cmd) });

/** What the operator at a device sees of a session (OperatorState's session). */
const OperatorSessionSchema = OperatorStateSchema.shape.sessions.element;

/** The simulator's answer to each command that went through, by `cmd` (`stop` answers with `stopped`). */
export const SimAckSchema = z.discriminatedUnion('cmd', [
  z.object({ ...ack('fault'), serial: z.string(), fault: SimFaultSchema }),
  z.object({ ...ack('clear'), serial: z.string() }),
  z.object({
    ...ack('list'),
    devices: z.array(
      z.object({
        serial: z.string(),
        model: DeviceModelIdSchema,
        /** The equipment's own state word (idle, injecting, running, degraded, …). */
        state: z.string(),
        /** The agent's connection state (connected, backoff, …). */
        agent: z.string(),
        faults: z.array(z.enum(DEVICE_FAULTS)),
      }),
    ),
  }),
  z.object({ ...ack('consents'), consents: z.array(ConsentRequestSchema.extend({ serial: z.string(), remainingSeconds: z.number().int().nonnegative() })) }),
  ConsentDecisionSchema.extend({ ...ack('approve'), serial: z.string() }),
  ConsentDecisionSchema.extend({ ...ack('deny'), serial: z.string() }),
  z.object({ ...ack('sessions'), sessions: z.array(OperatorSessionSchema.extend({ serial: z.string(), remainingSeconds: z.number().int().nonnegative() })) }),
  SessionRevocationSchema.extend({ ...ack('revoke'), serial: z.string() }),
  OperatorStateSchema.extend(ack('operator')),
]);
export type SimAck = z.infer<typeof SimAckSchema>;
/** The acknowledgement of one kind of command. */
export type SimAckFor<C extends SimAck['cmd']> = Extract<SimAck, { cmd: C }>;

/** A command refused or failed; `code` when the simulator knows one. */
export const SimErrorLineSchema = z.object({ event: z.literal('error'), id: SimControlIdSchema.optional(), code: ErrorCodeSchema.optional(), message: z.string() });
export type SimErrorLine = z.infer<typeof SimErrorLineSchema>;

/** Every line the simulator prints with --json: answers, and its own news. */
export const SimOutputLineSchema = z.discriminatedUnion('event', [
  /** Up and serving: where to sign in, and as whom. */
  z.object({
    event: z.literal('ready'),
    url: z.string(),
    /** Path of the embedded server's CA certificate (PEM). */
    caCert: z.string(),
    username: z.string(),
    password: z.string(),
    devices: z.number().int().nonnegative(),
    dataDir: z.string(),
    /** The simulated customers' --consent mode (auto, ask or deny). */
    consent: z.string(),
  }),
  SimAckSchema,
  SimErrorLineSchema,
  /** A device's consent requests or sessions changed: what its operator sees now. */
  OperatorStateSchema.extend({ event: z.literal('operator') }),
  z.object({ event: z.literal('stopped'), reason: z.string() }),
]);
export type SimOutputLine = z.infer<typeof SimOutputLineSchema>;
