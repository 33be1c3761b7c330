import { z } from 'zod';
import { DataItemKeySchema, DataValueSchema } from '../common.ts';
import type { DeviceModelId } from '../device-models.ts';

const INJECTORS: readonly DeviceModelId[] = ['stellant-flex', 'mrxperion', 'mark7-arterion'];
const DELIVERY: readonly DeviceModelId[] = [...INJECTORS, 'intego'];
const ALL: readonly DeviceModelId[] = [...DELIVERY, 'radimetrics'];

const CheckResult = z.object({ name: z.string(), passed: z.boolean(), detail: z.string() });

/**
 * Remote diagnostics: privileged device commands that need an active service session
 * with the `diagnose` scope. Each names the models it applies to, a label for the
 * console, and typed parameters (the console builds its form from their JSON Schema).
 * Progress and output lines stream while they run; they can be canceled.
 */
export const DIAGNOSTIC_CATALOG = {
  'self-test': {
    label: 'Self-test',
    description: 'Runs the built-in self-test: power, sensors, motors, communications.',
    models: ALL,
    params: z
      .object({ extended: z.boolean().default(false).describe('Also test the drive mechanics (takes longer)') })
      .strict(),
    result: z.object({ passed: z.boolean(), checks: z.array(CheckResult) }),
  },
  'pressure-transducer-check': {
    label: 'Pressure transducer check',
    description: 'Pressurises the test fixture to a target and compares the transducer reading.',
    models: INJECTORS,
    params: z
      .object({ targetPsi: z.number().int().min(50).max(1200).default(300).describe('Target pressure (psi)') })
      .strict(),
    result: z.object({ targetPsi: z.number(), measuredPsi: z.number(), errorPercent: z.number(), withinTolerance: z.boolean() }),
  },
  'plunger-calibration-check': {
    label: 'Syringe plunger calibration check',
    description: 'Moves the plunger through its travel and measures the position offset.',
    models: INJECTORS,
    params: z.object({ syringe: z.enum(['A', 'B']).default('A').describe('Syringe') }).strict(),
    result: z.object({ syringe: z.string(), offsetMm: z.number(), withinTolerance: z.boolean() }),
  },
  'collect-log-bundle': {
    label: 'Collect log bundle',
    description: 'Gathers the device logs of the last hours into one bundle on the device.',
    models: ALL,
    params: z
      .object({
        hours: z.number().int().min(1).max(168).default(24).describe('Hours of logs'),
        includeSystem: z.boolean().default(false).describe('Include operating-system logs'),
      })
      .strict(),
    result: z.object({ fileName: z.string(), sizeBytes: z.number().int(), entries: z.number().int() }),
  },
  'read-configuration': {
    label: 'Read configuration',
    description: 'Reads the device configuration (no patient data).',
    models: ALL,
    params: z.object({}).strict(),
    result: z.object({ settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])) }),
  },
  'set-data-item': {
    label: 'Set a data item',
    description: 'Writes one data item on the device (for example a pressure limit).',
    models: ALL,
    params: z
      .object({
        key: DataItemKeySchema.describe('Data item'),
        value: DataValueSchema.describe('New value'),
      })
      .strict(),
    result: z.object({ key: z.string(), previous: DataValueSchema.nullable(), value: DataValueSchema }),
  },
  'restart-service': {
    label: 'Restart a service',
    description: 'Restarts one Radimetrics service; it is unavailable for a few seconds.',
    models: ['radimetrics'] as readonly DeviceModelId[],
    params: z
      .object({ service: z.enum(['dicomListener', 'hl7Interface', 'database', 'web']).describe('Service') })
      .strict(),
    result: z.object({ service: z.string(), downtimeSeconds: z.number(), state: z.string() }),
  },
} as const;

export type DiagnosticName = keyof typeof DIAGNOSTIC_CATALOG;
export const DIAGNOSTIC_NAMES = Object.keys(DIAGNOSTIC_CATALOG) as DiagnosticName[];

export function isDiagnosticName(value: string): value is DiagnosticName {
  return Object.hasOwn(DIAGNOSTIC_CATALOG, value);
}

/** The diagnostics a model offers. */
export function diagnosticsFor(modelId: DeviceModelId): DiagnosticName[] {
  return DIAGNOSTIC_NAMES.filter((name) => DIAGNOSTIC_CATALOG[name].models.includes(modelId));
}
