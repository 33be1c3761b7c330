import { z } from 'zod';
import { UserSchema } from './api/auth.ts';
import { CommandAcceptedSchema, CommandViewSchema } from './api/commands.ts';
import {
  CommandOutputResponseSchema,
  CreateSessionRequestSchema,
  DiagnosticListResponseSchema,
  SessionListResponseSchema,
  SessionViewSchema,
} from './api/sessions.ts';
import { ConsentRequestSchema, DeviceSessionSchema } from './protocol/poll.ts';
import { ListFilesResponseSchema, TransferErrorSchema } from './api/transfers.ts';
import { DevicePathSchema, Sha256HexSchema, TransferDirectionSchema, TransferStateSchema } from './transfers.ts';
import {
  AlarmSchema,
  CustomerSchema,
  DeviceDetailSchema,
  DeviceEventSchema,
  DeviceListResponseSchema,
  DeviceModelIdSchema,
  HistoryResponseSchema,
} from './api/fleet.ts';
import { LiveEventSchema } from './api/live.ts';
import { DeviceStatusSchema, DataItemKeySchema } from './common.ts';
import { ErrorCodeSchema } from './errors.ts';
import { CommandNameSchema } from './protocol/commands.ts';
import { SIM_FAULTS } from './sim-faults.ts';
import { ProxyHostPortSchema, ProxySettingsSchema, ProxyStateSchema, ProxyTestResultSchema } from './proxy.ts';
import { TunnelViewSchema } from './api/tunnels.ts';
import { TunnelTargetIdSchema } from './tunnels.ts';
import { CheckRowSchema, PreflightProfileSchema, PreflightReportSchema, PROBE_PROTOCOLS, RowVerdictSchema } from './preflight.ts';

/**
 * The one contract between the console's renderer and its main process: every call
 * (zod input and output) and every event. Two generic binders carry it — Electron IPC
 * (src/main/ipc.ts) and a loopback WebSocket in browser mode (src/main/web.ts) — and both
 * validate every payload against these schemas. Nothing is declared per channel anywhere
 * else.
 */

const Id = z.string().min(1).max(64);
const Empty = z.object({}).strict();

/** A server profile's own manual proxy (the console-wide setting is ProxySettings in proxy.ts). */
export const ManualProxyInputSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  username: z.string().max(256).optional(),
  /** Only on input; stored in the vault, never returned. */
  password: z.string().max(1024).optional(),
});

export const PROFILE_KINDS = ['hosted', 'custom', 'simulator'] as const;

/** Where the console signs in: a hosted region, a custom server, or the offline simulator. */
export const ProfileSchema = z.object({
  id: Id,
  name: z.string().min(1).max(128),
  kind: z.enum(PROFILE_KINDS),
  /** Server base URL; empty for the simulator until it runs. */
  url: z.string().max(2048),
  /** PEM of the CA the connection pins; null trusts the system store (hosted, public certificates). */
  caPem: z.string().max(65_536).nullable(),
  proxy: z.object({ url: z.string(), username: z.string().optional(), hasPassword: z.boolean() }).nullable(),
  builtIn: z.boolean(),
});
export type Profile = z.infer<typeof ProfileSchema>;

export const SaveProfileInputSchema = z
  .object({
    id: Id.optional(),
    name: z.string().trim().min(1, 'give the profile a name').max(128),
    url: z.url({ protocol: /^https$/, message: 'the server URL must start with https://' }),
    caPem: z.string().max(65_536).regex(/-----BEGIN CERTIFICATE-----/, 'paste the CA certificate in PEM form').nullable(),
    proxy: ManualProxyInputSchema.nullable(),
  })
  .strict();
export type SaveProfileInput = z.infer<typeof SaveProfileInputSchema>;

export const SessionStateSchema = z.discriminatedUnion('signedIn', [
  z.object({ signedIn: z.literal(false) }),
  z.object({ signedIn: z.literal(true), user: UserSchema, profile: ProfileSchema, serverUrl: z.string() }),
]);
export type SessionState = z.infer<typeof SessionStateSchema>;

export const CONNECTION_STATES = ['online', 'reconnecting', 'offline'] as const;
export const ConnectionStateSchema = z.object({
  state: z.enum(CONNECTION_STATES),
  /** What the user should know: "server unreachable", "retrying in 4 s", … */
  detail: z.string().nullable(),
  since: z.string(),
  /** True when the connection came back after a loss: views should reload what they show. */
  resumed: z.boolean(),
});
export type ConnectionState = z.infer<typeof ConnectionStateSchema>;

export const SIMULATOR_PHASES = ['idle', 'starting', 'ready', 'stopping', 'failed'] as const;
export const SimulatorStatusSchema = z.object({
  phase: z.enum(SIMULATOR_PHASES),
  devices: z.number().int().nullable(),
  message: z.string().nullable(),
});
export type SimulatorStatus = z.infer<typeof SimulatorStatusSchema>;


/** What the simulated device's operator sees: consent questions waiting, sessions connected. */
export const OperatorStateSchema = z.object({
  serial: z.string(),
  consents: z.array(ConsentRequestSchema),
  sessions: z.array(DeviceSessionSchema.omit({ grant: true })),
});
export type OperatorState = z.infer<typeof OperatorStateSchema>;

/**
 * What the console's transfer engine is doing with one transfer, beyond the server's
 * state: hashing the file, waiting for the other end, moving bytes, checking the whole
 * file, or waiting to retry after a network failure.
 */
export const TRANSFER_STAGES = ['preparing', 'waiting', 'uploading', 'delivering', 'downloading', 'verifying', 'retrying'] as const;
export type TransferStage = (typeof TRANSFER_STAGES)[number];

/** One transfer as the console's engine sees it (the Transfers panel's row). */
export const TransferItemSchema = z.object({
  /** The console's id for it (stable from the click on; the server's id comes later for uploads). */
  id: Id,
  /** The server's transfer id, once created. */
  transferId: z.string().nullable(),
  deviceId: z.string(),
  deviceSerial: z.string(),
  sessionId: z.string(),
  direction: TransferDirectionSchema,
  fileName: z.string(),
  devicePath: z.string(),
  /** Upload: the file sent. Download: the file saved, once it verified (null before). */
  localPath: z.string().nullable(),
  state: TransferStateSchema,
  stage: z.enum(TRANSFER_STAGES).nullable(),
  size: z.number().int().nonnegative().nullable(),
  sha256: Sha256HexSchema.nullable(),
  /** Bytes the receiver verified (here for a download, at the device for an upload). */
  bytesDone: z.number().int().nonnegative(),
  /** Bytes this console moved: sent to the server (upload) or verified here (download). */
  bytesMoved: z.number().int().nonnegative(),
  /** Bytes per second, a moving average; 0 when nothing moves. */
  speed: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().nullable(),
  error: TransferErrorSchema.nullable(),
  attempts: z.number().int().nonnegative(),
  nextRetryAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().nullable(),
});
export type TransferItem = z.infer<typeof TransferItemSchema>;

const TransferRef = z.object({ id: Id }).strict();

/**
 * The console's side of a tunnel's link to the relay: dialing, carrying connections,
 * dialing again after the link broke (with a fresh ticket), or closed for good.
 */
export const TUNNEL_LINK_STATES = ['connecting', 'connected', 'reconnecting', 'closed'] as const;
export type TunnelLinkState = (typeof TUNNEL_LINK_STATES)[number];

/**
 * One tunnel this console opened (the active-tunnels list's row): the server's view (state,
 * paths, end cause) with the local end. Byte and connection counters are this console's
 * own count of what crossed its local port, so they move at once.
 */
export const TunnelItemSchema = TunnelViewSchema.extend({
  /** The local end, always on 127.0.0.1; null once closed. */
  localPort: z.number().int().min(1).max(65535).nullable(),
  link: z.enum(TUNNEL_LINK_STATES),
  /** Why the link is down, or why the last connection through it was refused. */
  error: z.object({ code: ErrorCodeSchema, message: z.string() }).nullable(),
  /** When the next dial happens while reconnecting. */
  nextRetryAt: z.string().nullable(),
});
export type TunnelItem = z.infer<typeof TunnelItemSchema>;

const TunnelRef = z.object({ id: Id }).strict();
const TerminalRef = z.object({ terminalId: Id }).strict();
/** A file the renderer handed to main in browser mode (PUT /staging/<id>). */
export const StagedIdSchema = z.uuid();

export const AppInfoSchema = z.object({
  version: z.string(),
  mode: z.enum(['electron', 'browser']),
  platform: z.string(),
});

/** Where a pre-flight profile comes from: shipped with the console, saved by the user, or derived from the signed-in server. */
export const PREFLIGHT_PROFILE_SOURCES = ['built-in', 'custom', 'server'] as const;
export const PreflightProfileEntrySchema = z.object({ source: z.enum(PREFLIGHT_PROFILE_SOURCES), profile: PreflightProfileSchema });
export type PreflightProfileEntry = z.infer<typeof PreflightProfileEntrySchema>;

const RunRef = z.object({ runId: Id }).strict();

/**
 * A pre-flight run's progress: each check as it starts and finishes (with its verdict
 * so far — a preferred port's level can change once its fallback is checked), then the
 * report with the final verdicts, or why the run could not finish.
 */
export const PreflightProgressSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('check-started'), runId: Id, index: z.number().int().nonnegative(), total: z.number().int().positive() }),
  z.object({ kind: z.literal('check-finished'), runId: Id, index: z.number().int().nonnegative(), total: z.number().int().positive(), row: CheckRowSchema, verdict: RowVerdictSchema }),
  z.object({ kind: z.literal('finished'), runId: Id, canceled: z.boolean(), report: PreflightReportSchema }),
  z.object({ kind: z.literal('failed'), runId: Id, code: ErrorCodeSchema, message: z.string() }),
]);
export type PreflightProgress = z.infer<typeof PreflightProgressSchema>;

/** Every renderer → main call. */
export const IPC_CALLS = {
  'app.info': { input: Empty, output: AppInfoSchema },
  'profiles.list': { input: Empty, output: z.object({ profiles: z.array(ProfileSchema), lastUsedId: z.string().nullable() }) },
  'profiles.save': { input: SaveProfileInputSchema, output: ProfileSchema },
  'profiles.remove': { input: z.object({ id: Id }).strict(), output: Empty },
  'session.get': { input: Empty, output: SessionStateSchema },
  'session.signIn': {
    input: z.object({ profileId: Id, username: z.string().min(1).max(64), password: z.string().min(1).max(1024) }).strict(),
    output: SessionStateSchema,
  },
  /** Starts the bundled simulator (if it is not running) and signs in to it. */
  'session.signInSimulator': { input: z.object({ devices: z.number().int().min(1).max(20_000) }).strict(), output: SessionStateSchema },
  'session.signOut': { input: Empty, output: Empty },
  /** The live connection's state now (events only tell of changes). */
  'connection.get': { input: Empty, output: ConnectionStateSchema.nullable() },
  'fleet.customers': { input: Empty, output: z.object({ items: z.array(CustomerSchema) }) },
  'fleet.devices': {
    input: z
      .object({
        q: z.string().max(128).optional(),
        status: DeviceStatusSchema.optional(),
        model: DeviceModelIdSchema.optional(),
        customerId: Id.optional(),
        limit: z.number().int().min(1).max(10_000).default(1000),
        offset: z.number().int().min(0).default(0),
      })
      .strict(),
    output: DeviceListResponseSchema,
  },
  'fleet.device': { input: z.object({ id: Id }).strict(), output: DeviceDetailSchema },
  'fleet.history': {
    input: z.object({ id: Id, key: DataItemKeySchema, limit: z.number().int().min(1).max(5000).default(300) }).strict(),
    output: HistoryResponseSchema,
  },
  'fleet.events': { input: z.object({ id: Id, limit: z.number().int().min(1).max(1000).default(100) }).strict(), output: z.object({ items: z.array(DeviceEventSchema) }) },
  'alarms.acknowledge': { input: z.object({ id: Id }).strict(), output: AlarmSchema },
  'commands.list': { input: z.object({ deviceId: Id }).strict(), output: z.object({ items: z.array(CommandViewSchema) }) },
  'commands.send': {
    input: z
      .object({ deviceId: Id, name: CommandNameSchema, params: z.record(z.string(), z.unknown()).default({}), sessionId: Id.optional() })
      .strict(),
    output: CommandAcceptedSchema,
  },
  'commands.get': { input: z.object({ id: Id }).strict(), output: CommandViewSchema },
  'commands.cancel': { input: z.object({ id: Id }).strict(), output: CommandViewSchema },
  'commands.output': { input: z.object({ id: Id, after: z.number().int().min(0).default(0) }).strict(), output: CommandOutputResponseSchema },
  'diagnostics.list': { input: z.object({ deviceId: Id }).strict(), output: DiagnosticListResponseSchema },
  'sessions.request': { input: CreateSessionRequestSchema.extend({ deviceId: Id }).strict(), output: SessionViewSchema },
  'sessions.list': { input: z.object({ deviceId: Id }).strict(), output: SessionListResponseSchema },
  'sessions.get': { input: z.object({ id: Id }).strict(), output: SessionViewSchema },
  'sessions.extend': { input: z.object({ id: Id, durationMinutes: z.number().int().min(1).max(240) }).strict(), output: SessionViewSchema },
  'sessions.end': { input: z.object({ id: Id }).strict(), output: SessionViewSchema },
  'sessions.join': { input: z.object({ id: Id }).strict(), output: SessionViewSchema },
  'sessions.leave': { input: z.object({ id: Id }).strict(), output: SessionViewSchema },
  'simulator.status': { input: Empty, output: SimulatorStatusSchema },
  'simulator.injectFault': { input: z.object({ serial: z.string().min(1).max(40), fault: z.enum(SIM_FAULTS) }).strict(), output: Empty },
  'simulator.clearFaults': { input: z.object({ serial: z.string().min(1).max(40) }).strict(), output: Empty },
  /** The simulated device's operator (the customer's side): consent questions and sessions. */
  'simulator.operatorState': { input: z.object({ serial: z.string().min(1).max(40) }).strict(), output: OperatorStateSchema },
  'simulator.decideConsent': {
    input: z.object({ serial: z.string().min(1).max(40), sessionId: Id, approve: z.boolean(), operator: z.string().min(1).max(128).default('Biomed (simulator)') }).strict(),
    output: Empty,
  },
  'simulator.revokeSession': {
    input: z.object({ serial: z.string().min(1).max(40), sessionId: Id, operator: z.string().min(1).max(128).default('Biomed (simulator)') }).strict(),
    output: Empty,
  },
  /** Every transfer of the signed-in profile this console knows (running first, then history). */
  'transfers.list': { input: Empty, output: z.object({ items: z.array(TransferItemSchema) }) },
  /**
   * Sends one local file to the device: a path (Electron) or a file staged over the
   * browser-mode bridge. `devicePath` is a folder (ending in "/", or a root) or the full
   * destination path. Answers at once; hashing and sending continue in the background.
   */
  'transfers.upload': {
    input: z
      .object({
        deviceId: Id,
        sessionId: Id,
        localPath: z.string().min(1).max(4096).optional(),
        stagedId: StagedIdSchema.optional(),
        devicePath: DevicePathSchema,
        overwrite: z.boolean().default(false),
      })
      .strict()
      .refine((v) => (v.localPath === undefined) !== (v.stagedId === undefined), { message: 'give either localPath or stagedId' }),
    output: TransferItemSchema,
  },
  /** Fetches device files into `saveDir` (default: the console's downloads folder), one transfer each. */
  'transfers.download': {
    input: z
      .object({ deviceId: Id, sessionId: Id, devicePaths: z.array(DevicePathSchema).min(1).max(100), saveDir: z.string().min(1).max(4096).optional() })
      .strict(),
    output: z.object({ items: z.array(TransferItemSchema) }),
  },
  'transfers.pause': { input: TransferRef, output: TransferItemSchema },
  'transfers.resume': { input: TransferRef, output: TransferItemSchema },
  'transfers.cancel': { input: TransferRef, output: TransferItemSchema },
  'transfers.retry': { input: TransferRef, output: TransferItemSchema },
  /** A device folder's entries (a `list-files` command in the session, awaited). */
  'files.list': { input: z.object({ deviceId: Id, sessionId: Id, path: DevicePathSchema.default('/') }).strict(), output: ListFilesResponseSchema },
  /** The system's file picker (Electron); in browser mode the page uses its own and this answers none. */
  'dialog.pickFiles': { input: Empty, output: z.object({ paths: z.array(z.string()) }) },
  /** A folder to save downloads in: the system's picker (Electron), the default downloads folder (browser mode); null when canceled. */
  'dialog.pickFolder': { input: Empty, output: z.object({ path: z.string().nullable() }) },
  /** Pre-flight profiles: built-in, the user's custom ones, and (signed in) the server's own. */
  'preflight.profiles': { input: Empty, output: z.object({ profiles: z.array(PreflightProfileEntrySchema) }) },
  /** Adds or replaces a custom profile (built-in and server ids are taken). */
  'preflight.saveProfile': { input: z.object({ profile: z.unknown() }).strict(), output: PreflightProfileSchema },
  'preflight.deleteProfile': { input: z.object({ id: Id }).strict(), output: Empty },
  /** Checks exported JSON text and answers the profile it holds (not saved yet). */
  'preflight.importProfile': { input: z.object({ json: z.string().max(1_000_000) }).strict(), output: PreflightProfileSchema },
  'preflight.exportProfile': { input: z.object({ id: Id }).strict(), output: z.object({ fileName: z.string(), json: z.string() }) },
  /** Starts a run; progress comes as `preflight.progress` events. `targets` lets the table show every row at once. */
  'preflight.run': {
    input: z.object({ profileId: Id, proxy: ManualProxyInputSchema.optional() }).strict(),
    output: z.object({ runId: Id, targets: z.array(z.object({ host: z.string(), port: z.number().int(), protocol: z.enum(PROBE_PROTOCOLS) })) }),
  },
  'preflight.cancel': { input: RunRef, output: Empty },
  /** A finished run's report as JSON or printable HTML. */
  'preflight.report': { input: z.object({ runId: Id, format: z.enum(['json', 'html']) }).strict(), output: z.object({ fileName: z.string(), text: z.string() }) },
  /** Electron: the report as a PDF where the user chooses (null path: canceled). Browser mode refuses; the page prints the HTML. */
  'preflight.savePdf': { input: RunRef, output: z.object({ path: z.string().nullable() }) },
  /** The console-wide proxy settings (the password is never answered, only whether the vault has one). */
  'proxy.get': { input: Empty, output: ProxyStateSchema },
  /** Saves the settings; `password` goes to the vault (null removes it, absent keeps it). */
  'proxy.set': {
    input: z
      .object({
        settings: ProxySettingsSchema,
        password: z.string().min(1).max(1024).nullable().optional(),
        /** Passwords of `settings.signIns`, by their proxy: a string sets it, null removes it, an absent proxy keeps its own. */
        signInPasswords: z.record(ProxyHostPortSchema, z.string().min(1).max(1024).nullable()).optional(),
      })
      .strict(),
    output: ProxyStateSchema,
  },
  /** Which route the settings choose for the server (or `url`) and whether a connection through it works. */
  'proxy.test': { input: z.object({ url: z.url({ protocol: /^https?$/ }).optional() }).strict(), output: ProxyTestResultSchema },
  /** This console's tunnels: open ones first, then the ones closed since it started. */
  'tunnels.list': { input: Empty, output: z.object({ items: z.array(TunnelItemSchema) }) },
  /**
   * Opens a tunnel in an active session with the `tunnel` scope to one of the model's
   * targets: answers once the local port (127.0.0.1) carries connections.
   */
  'tunnels.open': { input: z.object({ deviceId: Id, sessionId: Id, targetId: TunnelTargetIdSchema }).strict(), output: TunnelItemSchema },
  /** Closes a tunnel: both legs on the server, and the local port with its connections. */
  'tunnels.close': { input: TunnelRef, output: TunnelItemSchema },
  /** Opens an HTTP target's local address in the system browser (Electron; browser mode opens a tab itself). */
  'tunnels.openInBrowser': { input: TunnelRef, output: Empty },
  /** A terminal on a console target: main connects to the tunnel's local port and relays bytes as `tunnels.terminal.data`. */
  'tunnels.terminal.open': { input: TunnelRef, output: z.object({ terminalId: Id }) },
  'tunnels.terminal.write': { input: TerminalRef.extend({ data: z.string().min(1).max(65_536) }).strict(), output: Empty },
  'tunnels.terminal.close': { input: TerminalRef, output: Empty },
  /** Opens a link in the system browser — only allow-listed destinations. */
  'shell.openExternal': { input: z.object({ url: z.url() }).strict(), output: Empty },
} as const;

/** Every main → renderer event. */
export const IPC_EVENTS = {
  'connection.state': ConnectionStateSchema,
  'live.event': LiveEventSchema,
  'simulator.status': SimulatorStatusSchema,
  /** A simulated device's operator view changed (a consent question arrived, a session started or ended). */
  'simulator.operator': OperatorStateSchema,
  'session.ended': z.object({ code: ErrorCodeSchema.nullable(), message: z.string() }),
  /** The transfer engine's view changed (state, progress at most a few times a second). */
  'transfers.changed': z.object({ items: z.array(TransferItemSchema) }),
  'preflight.progress': PreflightProgressSchema,
  /** A tunnel changed (link, state, counters at most a few times a second). */
  'tunnels.changed': z.object({ items: z.array(TunnelItemSchema) }),
  /** Output of a tunnel terminal; `closed` once its connection ended. */
  'tunnels.terminal.data': z.object({ terminalId: Id, data: z.string(), closed: z.boolean() }),
} as const;

export type IpcCallName = keyof typeof IPC_CALLS;
export type IpcEventName = keyof typeof IPC_EVENTS;
export type IpcInput<K extends IpcCallName> = z.input<(typeof IPC_CALLS)[K]['input']>;
export type IpcParsedInput<K extends IpcCallName> = z.output<(typeof IPC_CALLS)[K]['input']>;
export type IpcOutput<K extends IpcCallName> = z.output<(typeof IPC_CALLS)[K]['output']>;
export type IpcEventPayload<E extends IpcEventName> = z.output<(typeof IPC_EVENTS)[E]>;

export const IPC_CALL_NAMES = Object.keys(IPC_CALLS) as IpcCallName[];
export const IPC_EVENT_NAMES = Object.keys(IPC_EVENTS) as IpcEventName[];

export function isIpcCallName(value: unknown): value is IpcCallName {
  return typeof value === 'string' && Object.hasOwn(IPC_CALLS, value);
}

/** An error as it crosses the contract (a TetherError's code, message and details). */
export const IpcErrorSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type IpcError = z.infer<typeof IpcErrorSchema>;

/**
 * What `window.tether` is, in Electron (preload) and in browser mode (WebSocket client):
 * `invoke` any call of the table, `on` any event. Rejections carry an IpcError.
 */
export interface TetherBridge {
  invoke<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>>;
  on<E extends IpcEventName>(event: E, listener: (payload: IpcEventPayload<E>) => void): () => void;
  /**
   * Electron only: the local path of a file the user dropped or picked (webUtils), so
   * main can read it; absent in browser mode, where files are staged over HTTP instead.
   */
  pathForFile?(file: Blob): string;
}

/** Electron IPC channel names: one for calls, one for events. */
export const IPC_CHANNEL = { call: 'tether:call', event: 'tether:event' } as const;

/** Browser-mode bridge wire messages. */
export const BridgeRequestSchema = z.object({ id: z.number().int().nonnegative(), call: z.string().max(64), input: z.unknown() });
export type BridgeMessage =
  | { type: 'result'; id: number; ok: true; output: unknown }
  | { type: 'result'; id: number; ok: false; error: IpcError }
  | { type: 'event'; event: IpcEventName; payload: unknown };
