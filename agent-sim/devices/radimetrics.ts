import { DEVICE_MODELS } from '../../src/shared/device-models.ts';
import {
  type DeviceBehaviour,
  type DeviceValues,
  type SimulatedDeviceOptions,
  SimulatedDevice,
  numberAt,
} from './simulated-device.ts';

const SERVICE_KEYS = ['service.dicomListener', 'service.hl7Interface', 'service.database', 'service.web'] as const;
const SERVICE_LABELS: Readonly<Record<string, string>> = Object.fromEntries(
  DEVICE_MODELS.radimetrics.dataItems.map((item) => [item.key, item.label]),
);

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The nightly backup runs from 02:00 to 03:00 (server time, UTC). */
const BACKUP_HOUR = 2;
/** The DICOM listener stops accepting once this many objects wait. */
const DICOM_QUEUE_CAPACITY = 5_000;
/** Disk use at which the scheduled purge of the expired study cache runs. */
const PURGE_AT_DISK_PERCENT = 92;
/** CT protocols and their CTDIvol notification values (mGy), for dose notifications. */
const DOSE_NOTIFICATION_VALUES = [
  { protocol: 'CT HEAD WO', notifyMgy: 80 },
  { protocol: 'CT CHEST W', notifyMgy: 25 },
  { protocol: 'CT ABD/PELVIS W', notifyMgy: 25 },
  { protocol: 'CTA CHEST', notifyMgy: 30 },
] as const;

function anyServiceStopped(values: DeviceValues): boolean {
  for (const key of SERVICE_KEYS) if (values[key] === 'stopped') return true;
  return false;
}

const RADIMETRICS_BEHAVIOUR: DeviceBehaviour = {
  rules: [
    {
      code: 'DISK_SPACE_LOW',
      severity: 'major',
      message: (v) => `Disk ${numberAt(v, 'disk').toFixed(1)} % full`,
      raise: (v) => numberAt(v, 'disk') >= 90,
      clear: (v) => numberAt(v, 'disk') < 85,
    },
    {
      code: 'DISK_FULL',
      severity: 'critical',
      message: (v) => `Disk ${numberAt(v, 'disk').toFixed(1)} % full; studies can no longer be stored`,
      raise: (v) => numberAt(v, 'disk') >= 98,
      clear: (v) => numberAt(v, 'disk') < 95,
    },
    {
      code: 'CPU_HIGH',
      severity: 'warning',
      raiseAfterTicks: 3,
      message: (v) => `CPU at ${Math.round(numberAt(v, 'cpu'))} %, at or above 95 % for 3 samples`,
      raise: (v) => numberAt(v, 'cpu') >= 95,
      clear: (v) => numberAt(v, 'cpu') < 85,
    },
    {
      code: 'QUEUE_BACKLOG',
      severity: 'minor',
      message: (v) => `${numberAt(v, 'queue.dicom')} DICOM objects waiting to be processed`,
      raise: (v) => numberAt(v, 'queue.dicom') > 500,
      clear: (v) => numberAt(v, 'queue.dicom') < 300,
    },
    {
      code: 'SERVICE_DOWN',
      severity: 'critical',
      message: (v) =>
        `Service stopped: ${SERVICE_KEYS.filter((key) => v[key] === 'stopped')
          .map((key) => SERVICE_LABELS[key] ?? key)
          .join(', ')}`,
      raise: anyServiceStopped,
      clear: (v) => !anyServiceStopped(v),
    },
  ],
  deadbands: { cpu: 2, memory: 1, disk: 0.1, 'db.size': 0.1, 'queue.dicom': 10, 'queue.hl7': 2 },
};

/**
 * The Radimetrics Enterprise Platform server: CPU and memory follow the working day,
 * load bursts and the nightly backup; the disk fills slowly until the study cache is
 * purged; DICOM and HL7 queues fill in bursts and drain. Its faults are a full disk, a
 * crashed DICOM listener and a stalled DICOM pipeline.
 */
export class RadimetricsDevice extends SimulatedDevice {
  /** Disk use without the disk-full fault: creeps up with stored studies. */
  private diskBaseline: number;
  private burstTicksLeft = 0;
  private lastTickAt: number | undefined;

  constructor(options: SimulatedDeviceOptions & { modelId: 'radimetrics' }) {
    super(options, RADIMETRICS_BEHAVIOUR);
    this.diskBaseline = this.random.between(35, 75);
    this.set('cpu', this.random.between(10, 30));
    this.set('memory', this.random.between(45, 65));
    this.set('disk', this.diskBaseline);
    this.set('db.size', this.random.between(50, 400));
    for (const key of SERVICE_KEYS) this.set(key, 'running');
  }

  /** `degraded` while a service is stopped, the disk is full or DICOM work backs up. */
  state(): string {
    for (const key of SERVICE_KEYS) if (this.text(key) === 'stopped') return 'degraded';
    return this.number('disk') >= 98 || this.number('queue.dicom') > 500 ? 'degraded' : 'running';
  }

  protected advance(now: number): void {
    const hour = Math.floor((now % DAY_MS) / HOUR_MS);
    if (this.burstTicksLeft > 0) this.burstTicksLeft -= 1;
    else if (this.random.chance(0.004)) this.burstTicksLeft = this.random.integer(10, 60);
    this.set('service.dicomListener', this.hasFault('service-down') ? 'stopped' : 'running');
    this.advanceQueues(now);
    this.advanceStorage(now);
    this.advanceLoad(hour);
    this.reportNightlyBackup(now);
    this.lastTickAt = now;
  }

  private advanceQueues(now: number): void {
    const stalled = this.hasFault('queue-backlog');
    let dicom = this.number('queue.dicom');
    if (stalled) dicom += this.random.integer(300, 500);
    else if (!this.hasFault('service-down') && this.random.chance(0.05)) {
      dicom += this.random.integer(20, 300);
      if (this.random.chance(0.02)) this.reportDoseNotification(now);
    }
    if (!stalled) dicom -= Math.min(dicom, Math.max(15, Math.ceil(dicom / 2)));
    this.set('queue.dicom', Math.min(DICOM_QUEUE_CAPACITY, dicom));

    let hl7 = this.number('queue.hl7');
    if (this.random.chance(0.2)) hl7 += this.random.integer(1, 8);
    hl7 -= Math.min(hl7, Math.max(1, Math.ceil(hl7 / 2)));
    this.set('queue.hl7', hl7);
  }

  private advanceStorage(now: number): void {
    this.diskBaseline += this.random.between(0, 0.0008);
    if (this.diskBaseline >= PURGE_AT_DISK_PERCENT) {
      const freed = this.random.between(15, 25);
      this.diskBaseline -= freed;
      this.emitEvent(now, 'cache.purged', 'info', `Expired study cache purged: ${freed.toFixed(1)} % of the disk freed`);
    }
    const disk = this.number('disk');
    const next = this.hasFault('disk-full')
      ? this.random.between(98.5, 99.8)
      : this.diskBaseline + (disk - this.diskBaseline) * 0.3;
    this.set('disk', next);
    this.set('db.size', this.number('db.size') + this.random.between(0, 0.0002));
  }

  private advanceLoad(hour: number): void {
    const burst = this.burstTicksLeft > 0;
    const backup = hour === BACKUP_HOUR;
    const working = hour >= 7 && hour < 19;
    const cpuTarget =
      12 + (working ? 25 : 0) + (backup ? 30 : 0) + (burst ? 45 : 0) + Math.min(20, this.number('queue.dicom') / 100);
    const cpu = this.number('cpu');
    this.set('cpu', clampPercent(cpu + (cpuTarget - cpu) * 0.3 + this.random.gaussian() * 4, 1));
    const memoryTarget = 50 + (burst ? 15 : 0) + (backup ? 10 : 0);
    const memory = this.number('memory');
    this.set('memory', clampPercent(memory + (memoryTarget - memory) * 0.1 + this.random.gaussian(), 5));
  }

  /** Radimetrics' everyday finding: a study whose dose exceeded its protocol's notification value. */
  private reportDoseNotification(now: number): void {
    const { protocol, notifyMgy } = this.random.pick(DOSE_NOTIFICATION_VALUES);
    const ctdiVol = notifyMgy * this.random.between(1.05, 1.6);
    this.emitEvent(
      now,
      'dose.notification',
      'info',
      `Dose notification: CTDIvol ${ctdiVol.toFixed(1)} mGy above the ${notifyMgy} mGy notification value (${protocol})`,
      { protocol, ctdiVolMgy: ctdiVol, notifyMgy },
    );
  }

  private reportNightlyBackup(now: number): void {
    const backupEnds = (BACKUP_HOUR + 1) * HOUR_MS;
    if (this.lastTickAt === undefined) return;
    if (Math.floor((now - backupEnds) / DAY_MS) <= Math.floor((this.lastTickAt - backupEnds) / DAY_MS)) return;
    const size = this.number('db.size');
    this.emitEvent(now, 'backup.completed', 'info', `Nightly database backup completed: ${size.toFixed(1)} GB`, {
      sizeGb: size,
    });
  }
}

function clampPercent(value: number, floor: number): number {
  return Math.min(100, Math.max(floor, value));
}
