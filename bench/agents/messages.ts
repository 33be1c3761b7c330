/**
 * The IPC contract between the benchmark's orchestrator and its children, declared once
 * (as GitHub Desktop's ipc-shared.ts does): each table maps a request name to its
 * argument and result types; `rpc.ts` is the only code that sends or receives.
 */

/** Which long-poll server is measured: the real Tether server, or the bare floor. */
export type BenchMode = 'tether' | 'bare';

/** One provisioned device slot as the agents need it. */
export interface DeviceSlot {
  deviceId: string;
  serial: string;
  /** Tether only: the one-time code the agent enrolls with. */
  enrollmentCode?: string;
}

/** Process figures a child reports; times in microseconds as `process.cpuUsage()` gives them. */
export interface ProcessFigures {
  rssBytes: number;
  cpuUserMicros: number;
  cpuSystemMicros: number;
  /** performance.timeOrigin + performance.now() when taken. */
  at: number;
}

export interface ServerFigures extends ProcessFigures {
  /** Polls the server holds open right now. */
  heldPolls: number;
}

/** One command of a burst: its id, its device and when it was created (epoch ms, sub-ms). */
export interface BurstCommand {
  commandId: string;
  deviceId: string;
  createdAt: number;
}

export interface BurstResult {
  commands: BurstCommand[];
  /** Creations that threw, with the first message. */
  failed: number;
  firstError?: string;
}

export interface ServerSetup {
  mode: BenchMode;
  agents: number;
  pollWindowMs: number;
  /** Where the server keeps its files (database, PKI). */
  dataDir: string;
}

export interface ServerReady {
  url: string;
  caPem: string;
  devices: DeviceSlot[];
  setupMs: number;
}

/** What the server process answers. */
export type ServerRequests = {
  setup: { args: ServerSetup; result: ServerReady };
  /** `gc`: collect garbage first (the process runs with --expose-gc) so RSS is comparable. */
  figures: { args: { gc: boolean }; result: ServerFigures };
  burst: { args: { deviceIds: string[] }; result: BurstResult };
  /** When the server handed each command to its HTTP answer (known ones only). */
  handovers: { args: { commandIds: string[] }; result: [commandId: string, handedOverAt: number][] };
  stop: { args: Record<string, never>; result: null };
};

export interface AgentSetup {
  mode: BenchMode;
  serverUrl: string;
  caPem: string;
  devices: DeviceSlot[];
  /** Parent of the per-device data dirs. */
  dataDir: string;
  enrollConcurrency: number;
}

export interface EnrollOutcome {
  enrolled: number;
  failed: number;
  firstError?: string;
}

export interface AgentCounters extends ProcessFigures {
  /** Poll answers received since start (held polls and reports alike). */
  pollAnswers: number;
  connectionErrors: number;
  lastConnectionError?: string;
}

/** What an agent process answers. */
export type AgentRequests = {
  /** Tether: enrolls every device (bounded concurrency). Bare: only takes the slots. */
  setup: { args: AgentSetup; result: EnrollOutcome };
  start: { args: Record<string, never>; result: { started: number } };
  counters: { args: Record<string, never>; result: AgentCounters };
  stop: { args: Record<string, never>; result: null };
};

/** What an agent process says unasked: when commands reached it. */
export type AgentEvent = { type: 'receipts'; receipts: [commandId: string, receivedAt: number][] };
