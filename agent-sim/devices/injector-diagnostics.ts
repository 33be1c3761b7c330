import { TetherError } from '#contract/errors';
import type { DiagnosticContext } from '../agent/device.ts';
import { round1 } from './delivery-device.ts';
import { pause } from './diagnostics.ts';
import type { SeededRandom } from './random.ts';

/** A healthy transducer reads within ±2 % of the fixture's reference. */
const TRANSDUCER_TOLERANCE_PERCENT = 2;
/** Full plunger travel, and the position error a calibrated drive stays within. */
export const PLUNGER_TRAVEL_MM = 120;
const PLUNGER_TOLERANCE_MM = 0.5;

/** What the injector's mechanical checks need to know of the injector, as it is now. */
export interface InjectorUnderTest {
  /** The model's name, for messages. */
  readonly name: string;
  readonly pressureLimit: number;
  readonly syringes: readonly ('A' | 'B')[];
  /** A pressure transducer fault is active: readings run several percent high. */
  readonly pressureFault: boolean;
  readonly pressureErrorCode: string;
  readonly random: SeededRandom;
  /** One step of simulated work. */
  readonly stepMs: number;
}

/**
 * Pressurises the test fixture in four steps to the target and compares the
 * transducer with the fixture's reference; a pressure fault reads several percent high.
 */
export async function pressureTransducerCheck(
  injector: InjectorUnderTest,
  targetPsi: number,
  context: DiagnosticContext,
): Promise<{ targetPsi: number; measuredPsi: number; errorPercent: number; withinTolerance: boolean }> {
  const limit = injector.pressureLimit;
  if (targetPsi > limit) {
    throw new TetherError('VALIDATION_FAILED', `the ${injector.name} is rated to ${limit} psi; choose a target at or below it`);
  }
  context.signal.throwIfAborted();
  const random = injector.random;
  const faulty = injector.pressureFault;
  const gain = faulty ? random.between(1.06, 1.12) : 1 + Math.max(-0.008, Math.min(0.008, random.gaussian() * 0.003));
  const offset = faulty ? random.between(12, 25) : random.between(-0.5, 0.5);
  const reading = (psi: number) => round1(psi * gain + offset);
  const steps = 7;
  let done = 0;
  const step = async (what: string) => {
    context.progress((done / steps) * 100, what);
    context.log(`${what}…`);
    await pause(injector.stepMs, context.signal);
    done += 1;
  };
  context.log(`Pressure transducer check: target ${targetPsi} psi, tolerance ±${TRANSDUCER_TOLERANCE_PERCENT} %`);
  await step('Venting the test fixture and zeroing');
  context.log(`  zero reading ${reading(0).toFixed(1)} psi`);
  for (const fraction of [0.25, 0.5, 0.75, 1]) {
    const commanded = Math.round(targetPsi * fraction);
    await step(`Ramping to ${commanded} psi`);
    context.log(`  reference ${commanded} psi, transducer ${reading(commanded).toFixed(1)} psi`);
  }
  await step(`Holding ${targetPsi} psi`);
  const measuredPsi = reading(targetPsi);
  const errorPercent = Math.round((Math.abs(measuredPsi - targetPsi) / targetPsi) * 10_000) / 100;
  const withinTolerance = errorPercent <= TRANSDUCER_TOLERANCE_PERCENT;
  context.log(`  held reading ${measuredPsi.toFixed(1)} psi: error ${errorPercent.toFixed(2)} %`);
  await step('Venting');
  context.progress(100, withinTolerance ? 'Within tolerance' : 'Outside tolerance');
  context.log(withinTolerance ? 'Transducer within tolerance' : `Transducer OUTSIDE tolerance: recalibrate or replace it (${injector.pressureErrorCode})`);
  return { targetPsi, measuredPsi, errorPercent, withinTolerance };
}

/** Moves the plunger through its travel and measures the position error at each quarter. */
export async function plungerCalibrationCheck(
  injector: InjectorUnderTest,
  syringe: 'A' | 'B',
  context: DiagnosticContext,
): Promise<{ syringe: string; offsetMm: number; withinTolerance: boolean }> {
  if (!injector.syringes.includes(syringe)) {
    throw new TetherError('VALIDATION_FAILED', `the ${injector.name} has a single syringe (A)`);
  }
  context.signal.throwIfAborted();
  const random = injector.random;
  const bias = random.between(-0.1, 0.1);
  const positions = [0.25, 0.5, 0.75, 1].map((f) => f * PLUNGER_TRAVEL_MM);
  const steps = positions.length + 2;
  context.log(`Plunger calibration check, syringe ${syringe}: tolerance ±${PLUNGER_TOLERANCE_MM} mm`);
  context.progress(0, `Homing plunger ${syringe}`);
  context.log(`Homing plunger ${syringe}…`);
  await pause(injector.stepMs, context.signal);
  let worst = 0;
  for (const [index, position] of positions.entries()) {
    context.progress(((index + 1) / steps) * 100, `Moving to ${position} mm`);
    context.log(`Moving to ${position} mm…`);
    await pause(injector.stepMs, context.signal);
    const offset = Math.round((bias + random.gaussian() * 0.05) * 100) / 100;
    if (Math.abs(offset) > Math.abs(worst)) worst = offset;
    context.log(`  encoder ${(position + offset).toFixed(2)} mm (offset ${offset >= 0 ? '+' : ''}${offset.toFixed(2)} mm)`);
  }
  context.progress(((steps - 1) / steps) * 100, 'Returning home');
  context.log(`Returning plunger ${syringe} home…`);
  await pause(injector.stepMs, context.signal);
  const withinTolerance = Math.abs(worst) <= PLUNGER_TOLERANCE_MM;
  context.progress(100, withinTolerance ? 'Within tolerance' : 'Outside tolerance');
  context.log(`Largest offset ${worst.toFixed(2)} mm: ${withinTolerance ? 'within tolerance' : 'OUTSIDE tolerance, recalibrate the drive'}`);
  return { syringe, offsetMm: worst, withinTolerance };
}
