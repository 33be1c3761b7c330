import type { Logger } from 'pino';
import type { Fleet } from './fleet.ts';
import { FAULTS_BY_KIND } from './devices/index.ts';
import { DEVICE_MODELS } from '#contract/device-models';

const CHECK_EVERY_MS = 10_000;
const FAULT_LASTS_MS = { min: 30_000, max: 180_000 };

/**
 * Makes the simulated fleet misbehave now and then, so a trainee sees alarms come and go:
 * on average `perDevicePerHour` device faults per device per hour, each cleared again
 * after a few minutes. Returns the stop function.
 */
export function startRandomFaults(fleet: Fleet, perDevicePerHour: number, log: Logger): () => void {
  if (perDevicePerHour <= 0) return () => undefined;
  const chancePerCheck = (perDevicePerHour * CHECK_EVERY_MS) / 3_600_000;
  const clears = new Set<NodeJS.Timeout>();
  const timer = setInterval(() => {
    for (const member of fleet.members.values()) {
      if (Math.random() >= chancePerCheck || member.device.faults.size) continue;
      const faults = FAULTS_BY_KIND[DEVICE_MODELS[member.modelId].kind];
      const fault = faults[Math.floor(Math.random() * faults.length)];
      if (!fault) continue;
      member.device.injectFault(fault);
      log.info({ serial: member.serial, fault }, 'random fault');
      const clear = setTimeout(() => {
        clears.delete(clear);
        member.device.clearFault(fault);
      }, FAULT_LASTS_MS.min + Math.random() * (FAULT_LASTS_MS.max - FAULT_LASTS_MS.min));
      clear.unref();
      clears.add(clear);
    }
  }, CHECK_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    for (const clear of clears) clearTimeout(clear);
  };
}
