import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { TetherError } from '#contract/errors';
import { DIAGNOSTIC_CATALOG, type DiagnosticName } from '#contract/protocol/diagnostics';
import type { DiagnosticContext } from '../agent/device.ts';
import type { LogMessage, LogSource } from './file-tree.ts';
import { writeLogBundle } from './log-bundle.ts';
import type { SeededRandom } from './random.ts';

/** One check of a self-test, judged on the device as it is when the check runs. */
export interface SelfTestCheck {
  readonly name: string;
  run(): { passed: boolean; detail: string };
}

export type { LogSource } from './file-tree.ts';

/** Simulated work time that ends at once (rejecting) when the diagnostic is aborted. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(Math.max(0, ms), undefined, { signal });
}

/** Runs the checks one by one, a step each, reporting each as it ends. */
export async function runSelfTest(
  checks: readonly SelfTestCheck[],
  extended: boolean,
  context: DiagnosticContext,
  stepMs: number,
): Promise<{ passed: boolean; checks: { name: string; passed: boolean; detail: string }[] }> {
  context.signal.throwIfAborted();
  context.log(`Self-test started: ${checks.length} checks (${extended ? 'extended' : 'standard'})`);
  context.progress(0, 'Starting self-test');
  const results: { name: string; passed: boolean; detail: string }[] = [];
  for (const [index, check] of checks.entries()) {
    const step = `[${index + 1}/${checks.length}] ${check.name}`;
    context.log(`${step}: checking…`);
    await pause(stepMs, context.signal);
    const { passed, detail } = check.run();
    results.push({ name: check.name, passed, detail });
    context.log(`${step}: ${passed ? 'PASS' : 'FAIL'} — ${detail}`);
    context.progress(((index + 1) / checks.length) * 100, check.name);
  }
  const failed = results.filter((r) => !r.passed);
  context.log(failed.length
    ? `Self-test FAILED: ${failed.map((r) => r.name).join(', ')}`
    : `Self-test passed (${results.length}/${results.length} checks)`);
  return { passed: failed.length === 0, checks: results };
}

/**
 * Gathers the device's logs of the last `hours` into one compressed bundle on the device.
 * A device with a file system (`logsDir`) writes it there as a real .tar.gz, which an
 * engineer can then fetch; one without reports the size the bundle would have.
 */
export async function collectLogBundle(
  bundle: { serial: string; sources: readonly LogSource[]; hours: number; now: number; logsDir?: string | undefined },
  context: DiagnosticContext,
  stepMs: number,
  random: SeededRandom,
): Promise<{ fileName: string; sizeBytes: number; entries: number }> {
  context.signal.throwIfAborted();
  const { sources, hours } = bundle;
  context.log(`Collecting ${sources.length} logs, last ${hours} h`);
  const steps = sources.length + 1;
  const logs: { file: string; entries: number; messages: readonly LogMessage[] }[] = [];
  for (const [index, source] of sources.entries()) {
    context.progress((index / steps) * 100, `Collecting ${source.file}`);
    context.log(`Collecting ${source.file}…`);
    await pause(stepMs, context.signal);
    const count = Math.round(source.entriesPerHour * hours * random.between(0.8, 1.2));
    logs.push({ file: source.file, entries: count, messages: source.messages });
    context.log(`  ${source.file}: ${count.toLocaleString('en-US')} entries`);
  }
  const entries = logs.reduce((sum, log) => sum + log.entries, 0);
  context.progress((sources.length / steps) * 100, 'Compressing');
  context.log('Compressing bundle…');
  await pause(stepMs, context.signal);
  const fileName = `${bundle.serial}-logs-${fileStamp(bundle.now)}.tar.gz`;
  const sizeBytes = bundle.logsDir
    ? await writeLogBundle(bundle.logsDir, { serial: bundle.serial, fileName, logs, hours, now: bundle.now }, random, context.signal)
    : Math.round((entries * 140) / 6 + 2048); // ~140 bytes a log line, compressed about sixfold
  context.progress(100, 'Bundle ready');
  context.log(`Bundle ready: ${bundle.logsDir ? `/logs/${fileName}` : fileName} (${formatBytes(sizeBytes)}, ${entries.toLocaleString('en-US')} entries)`);
  return { fileName, sizeBytes, entries };
}

/** 20250106T090000Z: a compact UTC time for file names. */
export function fileStamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function formatBytes(bytes: number): string {
  if (bytes >= 1_048_576) return `${(bytes / 1_048_576).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

/** A check that passes unless `failure` says why not. */
export function selfTestCheck(name: string, judge: () => { failure?: string; detail: string }): SelfTestCheck {
  return {
    name,
    run: () => {
      const { failure, detail } = judge();
      return failure ? { passed: false, detail: failure } : { passed: true, detail };
    },
  };
}

/** The validated parameters of a diagnostic, defaults applied. */
export type DiagnosticParams<N extends DiagnosticName> = z.output<(typeof DIAGNOSTIC_CATALOG)[N]['params']>;

/**
 * Checks a diagnostic's parameters against the catalog (the agent has done so already;
 * the device checks again, since it can be driven directly too).
 */
export function diagnosticParams<N extends DiagnosticName>(name: N, params: unknown): DiagnosticParams<N> {
  const schema: z.ZodType = DIAGNOSTIC_CATALOG[name].params;
  const parsed = schema.safeParse(params);
  if (!parsed.success) {
    throw new TetherError('VALIDATION_FAILED', `invalid parameters for ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data as DiagnosticParams<N>;
}
