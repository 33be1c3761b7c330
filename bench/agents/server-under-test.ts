import type { BurstResult, ServerReady } from './messages.ts';

/** A long-poll server the benchmark loads: the real Tether server or the bare floor. */
export interface ServerUnderTest {
  readonly ready: ServerReady;
  /** Polls held open right now. */
  heldPolls(): number;
  /** Sends one command to each device at once; `createdAt` is taken just before each is created. */
  burst(deviceIds: readonly string[]): Promise<BurstResult>;
  /**
   * When each command left the server's logic for the wire: for Tether, its `delivered`
   * state change (committed, announced, then the poll answer is sent); for bare, the answer
   * written. Splits dispatch latency into server time and transport + agent time.
   */
  handedOverAt(commandId: string): number | undefined;
  close(): Promise<void>;
}

/** Serial numbers of the benchmark's devices: BENCH-000001, … */
export function benchSerial(index: number): string {
  return `BENCH-${String(index + 1).padStart(6, '0')}`;
}
