import { type SelfTestCheck, selfTestCheck } from './diagnostics.ts';
import type { SeededRandom } from './random.ts';
import {
  type DeviceBehaviour,
  type SimulatedDeviceOptions,
  type ThresholdRule,
  SimulatedDevice,
  numberAt,
} from './simulated-device.ts';

const OVERHEAT_CELSIUS = 45;
const START_CHARGING_BELOW = 35;

/** Battery alarm shared by every battery-powered delivery device. */
export const LOW_BATTERY: ThresholdRule = {
  code: 'LOW_BATTERY',
  severity: 'minor',
  message: (v) => `Battery at ${Math.round(numberAt(v, 'battery'))} %`,
  raise: (v) => numberAt(v, 'battery') < 20,
  clear: (v) => numberAt(v, 'battery') > 25,
};

/** Temperature alarm on `key`; `part` names what overheats in the message. */
export function overTemperature(key: string, part: string): ThresholdRule {
  return {
    code: 'OVER_TEMPERATURE',
    severity: 'major',
    message: (v) => `${part} at ${numberAt(v, key).toFixed(1)} °C, above the 40 °C limit`,
    raise: (v) => numberAt(v, key) > 40,
    clear: (v) => numberAt(v, key) < 37,
  };
}

/** A rechargeable pack: drains with use, goes on charge when low (fast below 25 %), tops up to full. */
class Battery {
  private charging = false;

  constructor(private level: number) {}

  step(drainPerTick: number, failing: boolean): number {
    if (failing) {
      this.charging = false;
      this.level = Math.max(2, Math.min(this.level, 18) - 0.1);
    } else if (this.charging || this.level < START_CHARGING_BELOW) {
      this.level = Math.min(100, this.level + (this.level < 25 ? 5 : 0.5));
      this.charging = this.level < 100;
    } else {
      this.level = Math.max(0, this.level - drainPerTick);
    }
    return round1(this.level);
  }
}

/** Drifts around `normal`; heads fast for the target when far from it (cooling failed, or restored). */
function nextTemperature(current: number, normal: number, overheating: boolean, random: SeededRandom): number {
  const target = overheating ? OVERHEAT_CELSIUS : normal;
  const pull = Math.abs(target - current) > 5 ? 0.6 : 0.05;
  return current + (target - current) * pull + random.gaussian() * 0.1;
}

/** Rounds to 0.1, the resolution devices show volumes and levels in. */
export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

type DeliveryPhase = 'idle' | 'armed' | 'delivering' | 'fault';

/** What a delivery device calls its procedure, its line-fault error and its temperature item. */
export interface DeliveryTraits {
  readonly procedure: 'injection' | 'infusion';
  readonly runningState: 'injecting' | 'infusing';
  /** Error code latched while the line fault (over-pressure, occlusion) lasts. */
  readonly lineError: string;
  readonly temperatureKey: string;
  readonly normalTemperature: number;
}

/**
 * Equipment that delivers a dose through a line into a patient: the procedure cycle
 * idle → armed → delivering → idle, a line fault that aborts every attempt until it is
 * cleared (the technologist keeps retrying), and the battery and temperature such
 * devices report.
 */
export abstract class DeliveryDevice extends SimulatedDevice {
  private phase: DeliveryPhase = 'idle';
  private phaseTicksLeft: number;
  private deliveryTicksLeft = 0;
  private readonly battery: Battery;

  protected constructor(
    options: SimulatedDeviceOptions,
    behaviour: DeviceBehaviour,
    private readonly traits: DeliveryTraits,
  ) {
    super(options, behaviour);
    const level = this.random.between(50, 100);
    this.battery = new Battery(level);
    this.set('battery', round1(level));
    this.set(traits.temperatureKey, traits.normalTemperature + this.random.gaussian() * 0.5);
    this.set('state', 'idle');
    this.phaseTicksLeft = this.random.integer(1, 20);
  }

  state(): string {
    return this.phase === 'delivering' ? this.traits.runningState : this.phase;
  }

  /** Plans the next procedure; false when the operator first had to reload (done here). */
  protected abstract prepare(now: number): boolean;
  /** Delivers 1/`ticksLeft` of what remains of the plan. */
  protected abstract deliverStep(ticksLeft: number): void;
  protected abstract complete(now: number): void;
  protected abstract abortMessage(): string;
  /** Values the line fault shows besides the error code and the stopped flow. */
  protected abstract showLineFault(): void;
  protected abstract clearLineFault(): void;
  /** Self-test checks of the fluid path and drive (the model's own hardware). */
  protected abstract mechanismChecks(extended: boolean): SelfTestCheck[];

  /** Power and temperature first, the model's mechanism, then memory and communications. */
  protected selfTestChecks(extended: boolean): SelfTestCheck[] {
    const { temperatureKey } = this.traits;
    return [
      selfTestCheck('Power supply', () => {
        const level = this.number('battery');
        return this.hasFault('low-battery') || level < 20
          ? { failure: `battery failing: ${level.toFixed(0)} % and not holding charge`, detail: '' }
          : { detail: `battery ${level.toFixed(0)} %, charger OK` };
      }),
      selfTestCheck('Temperature sensor', () => {
        const celsius = this.number(temperatureKey);
        return this.hasFault('over-temperature') || celsius > 40
          ? { failure: `${celsius.toFixed(1)} °C and rising: cooling fan not responding`, detail: '' }
          : { detail: `${celsius.toFixed(1)} °C, within 15–40 °C` };
      }),
      ...this.mechanismChecks(extended),
      selfTestCheck('Controller memory', () => ({ detail: 'firmware and protocol memory checksums OK' })),
      selfTestCheck('Communications', () => ({ detail: 'head link, network and service port OK' })),
    ];
  }

  protected advance(now: number): void {
    if (this.phase !== 'delivering' && --this.phaseTicksLeft <= 0) this.nextPhase(now);
    const lineFault = this.hasFault('pressure-fault');
    const latched = this.text('errorCode') === this.traits.lineError;
    if (lineFault && (!latched || this.phase === 'delivering')) this.abortOnLineFault(now);
    else if (!lineFault && latched) this.recoverFromLineFault();
    if (this.phase === 'delivering') this.deliver(now);
    const drain = this.phase === 'delivering' ? 0.05 : 0.01;
    this.set('battery', this.battery.step(drain, this.hasFault('low-battery')));
    const { temperatureKey, normalTemperature } = this.traits;
    const overheating = this.hasFault('over-temperature');
    this.set(temperatureKey, nextTemperature(this.number(temperatureKey), normalTemperature, overheating, this.random));
  }

  private nextPhase(now: number): void {
    switch (this.phase) {
      case 'idle':
        if (this.prepare(now)) this.enter('armed', this.random.integer(1, 3));
        else this.enter('idle', this.random.integer(2, 4));
        return;
      case 'armed':
        this.deliveryTicksLeft = this.random.integer(3, 6);
        this.enter('delivering', 0);
        return;
      case 'fault':
        // The technologist acknowledges the error and arms again.
        this.enter('armed', 1);
        return;
    }
  }

  private deliver(now: number): void {
    if (this.deliveryTicksLeft === 0) {
      this.set('flowRate', 0);
      this.complete(now);
      this.enter('idle', this.random.integer(5, 30));
      return;
    }
    this.deliverStep(this.deliveryTicksLeft);
    this.deliveryTicksLeft -= 1;
  }

  private abortOnLineFault(now: number): void {
    if (this.phase === 'delivering') {
      this.emitEvent(now, `${this.traits.procedure}.aborted`, 'warning', this.abortMessage());
    }
    this.set('errorCode', this.traits.lineError);
    this.set('flowRate', 0);
    this.showLineFault();
    this.enter('fault', this.random.integer(2, 4));
  }

  private recoverFromLineFault(): void {
    this.set('errorCode', '');
    this.clearLineFault();
    this.enter('idle', this.random.integer(2, 5));
  }

  private enter(phase: DeliveryPhase, ticks: number): void {
    this.phase = phase;
    this.phaseTicksLeft = ticks;
    this.set('state', this.state());
  }
}
