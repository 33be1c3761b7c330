import { DEVICE_MODELS, type DeviceModelId } from '#contract/device-models';
import type { DiagnosticName } from '#contract/protocol/diagnostics';
import type { DiagnosticContext } from '../agent/device.ts';
import { DeliveryDevice, LOW_BATTERY, overTemperature, round1 } from './delivery-device.ts';
import { type LogSource, type SelfTestCheck, diagnosticParams, selfTestCheck } from './diagnostics.ts';
import { DELIVERY_SYSTEM_LOG, deliveryAlarmLog, infusionLogs, injectorLogs, protocolsXml } from './device-logs.ts';
import type { SeededRandom } from './random.ts';
import { type InjectorUnderTest, PLUNGER_TRAVEL_MM, plungerCalibrationCheck, pressureTransducerCheck } from './injector-diagnostics.ts';
import {
  type DeviceBehaviour,
  type DeviceFault,
  type SettingValue,
  type SimulatedDeviceOptions,
  type ThresholdRule,
  numberAt,
} from './simulated-device.ts';

export type InjectorModelId = Extract<DeviceModelId, 'stellant-flex' | 'mrxperion' | 'mark7-arterion'>;

interface Range {
  readonly min: number;
  readonly max: number;
}

/** What sets one contrast injector model apart, from its product specification. */
export interface InjectorProfile {
  /** Flow rates the injector can deliver, mL/s. */
  readonly flowRate: Range;
  /** Flow rates of everyday protocols on its modality, mL/s. */
  readonly protocolFlowRate: Range;
  /** psi. */
  readonly pressureLimit: number;
  /** Peak pressure per mL/s through a typical catheter, psi. */
  readonly psiPerFlow: number;
  /** Syringe capacities, mL; B is 0 on a single-syringe injector. */
  readonly syringe: { readonly A: number; readonly B: number };
  /** Contrast from syringe A and saline flush from syringe B in one injection, mL. */
  readonly contrast: Range;
  readonly saline: Range;
  /** Names of the protocols a site typically stores on it (its modality's examinations). */
  readonly protocols: readonly string[];
}

export const INJECTOR_PROFILES: Readonly<Record<InjectorModelId, InjectorProfile>> = {
  'stellant-flex': {
    flowRate: { min: 0.1, max: 10 },
    protocolFlowRate: { min: 2, max: 6 },
    pressureLimit: 325,
    psiPerFlow: 28,
    syringe: { A: 200, B: 200 },
    contrast: { min: 50, max: 120 },
    saline: { min: 20, max: 50 },
    protocols: ['CT Head WO', 'CT Chest Routine', 'CT Abd/Pelvis W', 'CTA Chest PE', 'CTA Coronary', 'CT Liver 3-Phase'],
  },
  mrxperion: {
    flowRate: { min: 0.1, max: 10 },
    protocolFlowRate: { min: 1, max: 3 },
    pressureLimit: 325,
    psiPerFlow: 32,
    syringe: { A: 65, B: 115 },
    contrast: { min: 10, max: 20 },
    saline: { min: 15, max: 40 },
    protocols: ['MR Brain W/WO', 'MRA Neck', 'MR Liver Dynamic', 'MR Breast Dynamic', 'MR Prostate'],
  },
  'mark7-arterion': {
    flowRate: { min: 0.1, max: 45 },
    protocolFlowRate: { min: 3, max: 25 },
    pressureLimit: 1200,
    psiPerFlow: 38,
    syringe: { A: 150, B: 0 },
    contrast: { min: 5, max: 40 },
    saline: { min: 0, max: 0 },
    protocols: ['Left Coronary', 'Right Coronary', 'LV Gram', 'Aortogram', 'Peripheral Runoff'],
  },
};

/** Controller error shown while the pressure transducer reads over range. */
const PRESSURE_ERROR = 'E-PRESS-07';
/** Controller error shown while the infusion line is occluded. */
const OCCLUSION_ERROR = 'E-OCCL-03';

/** Fluorine-18 (FDG), the tracer the Intego draws doses from. */
const F18_HALF_LIFE_MS = 109.77 * 60_000;

const PRESSURE_LIMIT: ThresholdRule = {
  code: 'PRESSURE_LIMIT',
  severity: 'major',
  repeatEveryTicks: 5,
  message: (v) =>
    `Peak pressure ${Math.round(numberAt(v, 'pressure.peak'))} psi reached the ${numberAt(v, 'pressure.limit')} psi limit`,
  raise: (v) => numberAt(v, 'pressure.peak') >= numberAt(v, 'pressure.limit'),
  clear: (v) => numberAt(v, 'pressure.peak') < 0.9 * numberAt(v, 'pressure.limit'),
};

const OCCLUSION: ThresholdRule = {
  code: 'OCCLUSION',
  severity: 'major',
  message: () => `Infusion line occluded (${OCCLUSION_ERROR})`,
  raise: (v) => v['errorCode'] === OCCLUSION_ERROR,
  clear: (v) => v['errorCode'] !== OCCLUSION_ERROR,
};

const INJECTOR_BEHAVIOUR: DeviceBehaviour = {
  rules: [PRESSURE_LIMIT, LOW_BATTERY, overTemperature('temperature', 'Injector head')],
  deadbands: {
    'syringeA.volume': 0.5,
    'syringeB.volume': 0.5,
    flowRate: 0.1,
    'pressure.peak': 5,
    battery: 1,
    temperature: 0.2,
  },
};

const INFUSION_BEHAVIOUR: DeviceBehaviour = {
  rules: [OCCLUSION, LOW_BATTERY, overTemperature('shielding.temperature', 'Shielding')],
  deadbands: { activity: 5, flowRate: 0.05, 'shielding.temperature': 0.2, battery: 1 },
};

/**
 * A MEDRAD contrast injector (Stellant FLEX CT, MRXperion MR, Mark 7 Arterion CV):
 * injections draw contrast from syringe A and saline from B at a protocol flow rate,
 * peak pressure rises with flow, and a pressure transducer fault reads over the limit.
 */
export class InjectorDevice extends DeliveryDevice {
  readonly profile: InjectorProfile;
  private readonly plan = { contrast: 0, saline: 0, flowRate: 0, contrastLeft: 0, salineLeft: 0 };

  constructor(options: SimulatedDeviceOptions & { modelId: InjectorModelId }) {
    super(options, INJECTOR_BEHAVIOUR, {
      procedure: 'injection',
      runningState: 'injecting',
      lineError: PRESSURE_ERROR,
      temperatureKey: 'temperature',
      normalTemperature: 24,
    });
    this.profile = INJECTOR_PROFILES[options.modelId];
    this.set('pressure.limit', this.profile.pressureLimit);
    this.set('syringeA.volume', round1(this.profile.syringe.A * this.random.between(0.3, 1)));
    this.set('syringeB.volume', round1(this.profile.syringe.B * this.random.between(0.3, 1)));
    this.set('injectionCount', this.random.integer(500, 40_000));
  }

  protected prepare(now: number): boolean {
    const { plan, profile } = this;
    plan.contrast = Math.round(this.random.between(profile.contrast.min, profile.contrast.max));
    plan.saline = Math.round(this.random.between(profile.saline.min, profile.saline.max));
    const refilledA = this.refillIfShort('A', plan.contrast, now);
    const refilledB = this.refillIfShort('B', plan.saline, now);
    if (refilledA || refilledB) return false;
    plan.flowRate = round1(this.random.between(profile.protocolFlowRate.min, profile.protocolFlowRate.max));
    plan.contrastLeft = plan.contrast;
    plan.salineLeft = plan.saline;
    this.set('pressure.peak', 0);
    return true;
  }

  protected deliverStep(ticksLeft: number): void {
    const { plan, profile } = this;
    const contrast = plan.contrastLeft / ticksLeft;
    const saline = plan.salineLeft / ticksLeft;
    plan.contrastLeft -= contrast;
    plan.salineLeft -= saline;
    this.set('syringeA.volume', Math.max(0, round1(this.number('syringeA.volume') - contrast)));
    this.set('syringeB.volume', Math.max(0, round1(this.number('syringeB.volume') - saline)));
    this.set('flowRate', plan.flowRate);
    // Pressure limiting keeps a healthy injection well under the limit.
    const pressure = profile.psiPerFlow * plan.flowRate * (1 + 0.08 * this.random.gaussian());
    const limited = Math.round(Math.min(0.85 * profile.pressureLimit, Math.max(0, pressure)));
    this.set('pressure.peak', Math.max(this.number('pressure.peak'), limited));
  }

  protected complete(now: number): void {
    const { contrast, saline, flowRate } = this.plan;
    this.set('injectionCount', this.number('injectionCount') + 1);
    const flush = saline > 0 ? ` + ${saline} mL saline` : '';
    this.emitEvent(
      now,
      'injection.completed',
      'info',
      `Injection completed: ${contrast} mL contrast${flush} at ${flowRate.toFixed(1)} mL/s`,
      { contrastMl: contrast, salineMl: saline, flowRate },
    );
  }

  protected abortMessage(): string {
    return `Injection aborted at the ${this.profile.pressureLimit} psi pressure limit (${PRESSURE_ERROR})`;
  }

  protected showLineFault(): void {
    this.set('pressure.peak', Math.round(this.profile.pressureLimit * this.random.between(1, 1.08)));
  }

  protected clearLineFault(): void {
    this.set('pressure.peak', 0);
  }

  protected mechanismChecks(extended: boolean): SelfTestCheck[] {
    const syringes = this.syringes();
    return [
      selfTestCheck('Pressure transducer', () =>
        this.hasFault('pressure-fault')
          ? { failure: `reads ${Math.round(this.profile.pressureLimit * 0.06)} psi at rest: out of calibration (${PRESSURE_ERROR})`, detail: '' }
          : { detail: 'zero offset within 0.5 psi, span OK' }),
      ...syringes.map((s) => selfTestCheck(`Syringe ${s} drive motor`, () => ({ detail: 'motor current and encoder OK' }))),
      ...(extended
        ? [
            ...syringes.map((s) => selfTestCheck(`Plunger ${s} full travel`, () => ({ detail: `${PLUNGER_TRAVEL_MM} mm travel without stall` }))),
            selfTestCheck('Stall detection', () => ({ detail: 'stall detected at the expected load' })),
          ]
        : []),
    ];
  }

  protected configuration(): Record<string, SettingValue> {
    const { profile } = this;
    return {
      'pressure.limit': this.number('pressure.limit'),
      'flowRate.min': profile.flowRate.min,
      'flowRate.max': profile.flowRate.max,
      'syringeA.capacity': profile.syringe.A,
      ...(profile.syringe.B > 0 ? { 'syringeB.capacity': profile.syringe.B } : {}),
      'kvo.enabled': profile.syringe.B > 0,
      'protocols.stored': 40,
      language: 'en',
    };
  }

  protected logSources(includeSystem: boolean): LogSource[] {
    const logs = injectorLogs(this.profile, this.softwareVersion);
    return [
      { file: 'controller.log', entriesPerHour: 120, messages: logs.controller },
      { file: 'injection-history.log', entriesPerHour: 8, messages: logs.history },
      { file: 'alarms.log', entriesPerHour: 2, messages: deliveryAlarmLog('PRESSURE_LIMIT') },
      { file: 'service.log', entriesPerHour: 15, messages: logs.service },
      ...(includeSystem ? [{ file: 'system.log', entriesPerHour: 400, messages: DELIVERY_SYSTEM_LOG }] : []),
    ];
  }

  protected protocolsXml(random: SeededRandom): string {
    const { profile } = this;
    return protocolsXml(
      this.modelId,
      profile.protocols.map((name) => ({
        name,
        phases: [
          { syringe: 'A', volumeMl: Math.round(random.between(profile.contrast.min, profile.contrast.max)), flowRate: round1(random.between(profile.protocolFlowRate.min, profile.protocolFlowRate.max)) },
          ...(profile.syringe.B > 0 ? [{ syringe: 'B', volumeMl: Math.round(random.between(profile.saline.min, profile.saline.max)), flowRate: round1(random.between(profile.protocolFlowRate.min, profile.protocolFlowRate.max)) }] : []),
        ],
        pressureLimit: profile.pressureLimit,
      })),
    );
  }

  protected override modelDiagnostic(name: DiagnosticName, params: Record<string, unknown>, context: DiagnosticContext): Promise<unknown> {
    switch (name) {
      case 'pressure-transducer-check':
        return pressureTransducerCheck(this.underTest(), diagnosticParams(name, params).targetPsi, context);
      case 'plunger-calibration-check':
        return plungerCalibrationCheck(this.underTest(), diagnosticParams(name, params).syringe, context);
      default:
        return super.modelDiagnostic(name, params, context);
    }
  }

  /** What the mechanical checks see of this injector now. */
  private underTest(): InjectorUnderTest {
    return {
      name: DEVICE_MODELS[this.modelId].name,
      pressureLimit: this.profile.pressureLimit,
      syringes: this.syringes(),
      pressureFault: this.hasFault('pressure-fault'),
      pressureErrorCode: PRESSURE_ERROR,
      random: this.diagnosticRandom,
      stepMs: this.diagnosticStepMs,
    };
  }

  private syringes(): ('A' | 'B')[] {
    return this.profile.syringe.B > 0 ? ['A', 'B'] : ['A'];
  }

  private refillIfShort(syringe: 'A' | 'B', neededMl: number, now: number): boolean {
    const key = syringe === 'A' ? 'syringeA.volume' : 'syringeB.volume';
    if (this.number(key) >= neededMl) return false;
    const capacity = this.profile.syringe[syringe];
    this.set(key, capacity);
    this.emitEvent(now, 'syringe.refilled', 'info', `Syringe ${syringe} refilled: ${capacity} mL`, { syringe });
    return true;
  }
}

/**
 * The MEDRAD Intego PET infusion system: draws FDG doses from a shielded multi-dose
 * vial whose activity decays between infusions; its line fault is an occlusion.
 */
export class InfusionDevice extends DeliveryDevice {
  private readonly decayPerTick: number;
  private readonly plan = { doseMBq: 0, doseLeft: 0, flowRate: 0 };

  constructor(options: SimulatedDeviceOptions & { modelId: 'intego' }) {
    super(options, INFUSION_BEHAVIOUR, {
      procedure: 'infusion',
      runningState: 'infusing',
      lineError: OCCLUSION_ERROR,
      temperatureKey: 'shielding.temperature',
      normalTemperature: 22,
    });
    this.decayPerTick = 0.5 ** (this.tickMs / F18_HALF_LIFE_MS);
    this.set('activity', this.random.between(7_400, 18_500));
    this.set('infusionCount', this.random.integer(100, 8_000));
  }

  protected override advance(now: number): void {
    this.set('activity', this.number('activity') * this.decayPerTick);
    super.advance(now);
  }

  protected override faultLabel(fault: DeviceFault): string {
    return fault === 'pressure-fault' ? 'Infusion line occlusion' : super.faultLabel(fault);
  }

  protected prepare(now: number): boolean {
    const { plan } = this;
    plan.doseMBq = Math.round(this.random.between(185, 400));
    if (this.number('activity') < plan.doseMBq * 1.5) {
      const loaded = Math.round(this.random.between(7_400, 18_500));
      this.set('activity', loaded);
      this.emitEvent(now, 'vial.loaded', 'info', `New FDG vial loaded: ${loaded} MBq`, { activityMBq: loaded });
      return false;
    }
    plan.doseLeft = plan.doseMBq;
    plan.flowRate = round1(this.random.between(0.5, 1.5));
    return true;
  }

  protected deliverStep(ticksLeft: number): void {
    const dose = this.plan.doseLeft / ticksLeft;
    this.plan.doseLeft -= dose;
    this.set('activity', Math.max(0, this.number('activity') - dose));
    this.set('flowRate', this.plan.flowRate);
  }

  protected complete(now: number): void {
    const { doseMBq, flowRate } = this.plan;
    this.set('infusionCount', this.number('infusionCount') + 1);
    this.emitEvent(now, 'infusion.completed', 'info', `Infusion completed: ${doseMBq} MBq at ${flowRate.toFixed(1)} mL/s`, {
      doseMBq,
      flowRate,
    });
  }

  protected abortMessage(): string {
    return `Infusion aborted: line occlusion (${OCCLUSION_ERROR})`;
  }

  // An occlusion shows only as the error code and the stopped flow.
  protected showLineFault(): void {}

  protected clearLineFault(): void {}

  protected mechanismChecks(extended: boolean): SelfTestCheck[] {
    return [
      selfTestCheck('Occlusion sensor', () =>
        this.hasFault('pressure-fault')
          ? { failure: `line pressure sensor reports an occlusion (${OCCLUSION_ERROR})`, detail: '' }
          : { detail: 'line pressure at rest 0.1 bar, sensor responding' }),
      selfTestCheck('Dose calibrator', () => ({ detail: 'Cs-137 constancy within 2 %' })),
      ...(extended
        ? [
            selfTestCheck('Peristaltic pump drive', () => ({ detail: 'rotation and flow sensor agree' })),
            selfTestCheck('Pinch valves', () => ({ detail: 'all valves open and close' })),
          ]
        : []),
    ];
  }

  protected configuration(): Record<string, SettingValue> {
    return {
      isotope: 'F-18',
      'halfLife.minutes': 109.77,
      'dose.maxMBq': 740,
      'flowRate.max': 1.5,
      'shielding.alarmCelsius': 40,
      language: 'en',
    };
  }

  protected logSources(includeSystem: boolean): LogSource[] {
    const logs = infusionLogs(this.softwareVersion);
    return [
      { file: 'controller.log', entriesPerHour: 100, messages: logs.controller },
      { file: 'infusion-history.log', entriesPerHour: 4, messages: logs.history },
      { file: 'calibrator.log', entriesPerHour: 6, messages: logs.calibrator },
      { file: 'alarms.log', entriesPerHour: 2, messages: deliveryAlarmLog('OCCLUSION') },
      ...(includeSystem ? [{ file: 'system.log', entriesPerHour: 400, messages: DELIVERY_SYSTEM_LOG }] : []),
    ];
  }

  protected protocolsXml(random: SeededRandom): string {
    const doses = [['FDG Whole Body', 370], ['FDG Brain', 185], ['FDG Cardiac', 300], ['FDG Paediatric', 110]] as const;
    return protocolsXml(
      this.modelId,
      doses.map(([name, doseMBq]) => ({ name, phases: [{ syringe: 'vial', volumeMl: round1(random.between(4, 10)), flowRate: round1(random.between(0.5, 1.5)) }], doseMBq })),
    );
  }
}
