import { DEVICE_MODELS } from '#contract/device-models';
import type { DiagnosticName } from '#contract/protocol/diagnostics';
import type { DiagnosticContext } from '../agent/device.ts';
import { type LogSource, type SelfTestCheck, diagnosticParams, pause, selfTestCheck } from './diagnostics.ts';
import { escapeXml, radimetricsLogs } from './device-logs.ts';
import type { SeedFile } from './file-tree.ts';
import type { SeededRandom } from './random.ts';
import {
  type DeviceBehaviour,
  type DeviceValues,
  type SettingValue,
  type SimulatedDeviceOptions,
  SimulatedDevice,
  numberAt,
} from './simulated-device.ts';

/** The Radimetrics services an engineer can restart remotely. */
type RadimetricsService = 'dicomListener' | 'hl7Interface' | 'database' | 'web';

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
  /** Services stopped by a restart in progress. */
  private readonly restarting = new Set<RadimetricsService>();

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
    const listenerDown = this.hasFault('service-down') || this.restarting.has('dicomListener');
    this.set('service.dicomListener', listenerDown ? 'stopped' : 'running');
    this.advanceQueues(now);
    this.advanceStorage(now);
    this.advanceLoad(hour);
    this.reportNightlyBackup(now);
    this.lastTickAt = now;
  }

  protected selfTestChecks(extended: boolean): SelfTestCheck[] {
    const service = (name: string, key: string, detail: () => string) =>
      selfTestCheck(name, () => (this.text(key) === 'running' ? { detail: detail() } : { failure: `${this.label(key)} is ${this.text(key)}`, detail: '' }));
    return [
      selfTestCheck('Processor and memory', () => {
        const cpu = this.number('cpu');
        const memory = this.number('memory');
        const detail = `CPU ${cpu.toFixed(0)} %, memory ${memory.toFixed(0)} %`;
        return cpu >= 95 || memory >= 90 ? { failure: `${detail}: overloaded`, detail } : { detail };
      }),
      selfTestCheck('Disk space', () => {
        const disk = this.number('disk');
        return disk >= 90
          ? { failure: `${disk.toFixed(1)} % used: new studies may not be stored`, detail: '' }
          : { detail: `${disk.toFixed(1)} % used` };
      }),
      service('Database service', 'service.database', () => `running, ${this.number('db.size').toFixed(1)} GB`),
      selfTestCheck('DICOM listener', () => {
        if (this.text('service.dicomListener') !== 'running') return { failure: 'not accepting associations on port 104', detail: '' };
        const queued = this.number('queue.dicom');
        return queued > 500
          ? { failure: `accepting on port 104, but ${queued} objects wait to be processed`, detail: '' }
          : { detail: `accepting on port 104, ${queued} objects queued` };
      }),
      service('HL7 interface', 'service.hl7Interface', () => 'listening on port 2575'),
      service('Web portal', 'service.web', () => 'HTTPS on port 443 answering'),
      ...(extended
        ? [
            selfTestCheck('DICOM C-ECHO', () =>
              this.text('service.dicomListener') === 'running' ? { detail: 'echo to RADIMETRICS answered in 4 ms' } : { failure: 'no answer to C-ECHO', detail: '' }),
            selfTestCheck('Database integrity', () => ({ detail: 'consistency check found no errors' })),
            selfTestCheck('Backup volume', () => ({ detail: 'write and read-back test passed' })),
          ]
        : []),
    ];
  }

  protected configuration(): Record<string, SettingValue> {
    return {
      'dicom.aeTitle': 'RADIMETRICS',
      'dicom.port': 104,
      'hl7.port': 2575,
      'web.port': 443,
      'retention.days': 730,
      'backup.hourUtc': BACKUP_HOUR,
      'purge.atDiskPercent': PURGE_AT_DISK_PERCENT,
      'database.engine': 'SQL Server',
    };
  }

  protected logSources(includeSystem: boolean): LogSource[] {
    const logs = radimetricsLogs();
    return [
      { file: 'radimetrics-app.log', entriesPerHour: 600, messages: logs.app },
      { file: 'dicom-listener.log', entriesPerHour: 900, messages: logs.dicom },
      { file: 'hl7-interface.log', entriesPerHour: 200, messages: logs.hl7 },
      { file: 'audit.log', entriesPerHour: 50, messages: logs.audit },
      ...(includeSystem ? [{ file: 'windows-event.log', entriesPerHour: 300, messages: logs.windows }] : []),
    ];
  }

  /** The dose notification values per CT protocol, as the server stores them. */
  protected protocolsXml(): string {
    const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<doseNotificationValues model="radimetrics" version="1">'];
    for (const { protocol, notifyMgy } of DOSE_NOTIFICATION_VALUES) {
      lines.push(`  <protocol name="${escapeXml(protocol)}" ctdiVolMgy="${notifyMgy}"/>`);
    }
    lines.push('</doseNotificationValues>', '');
    return lines.join('\n');
  }

  /** The server's tree adds /exports: last month's dose report, as a physicist exports it. */
  protected override async fileTree(random: SeededRandom, now: number): Promise<SeedFile[]> {
    return [...(await super.fileTree(random, now)), doseReport(random, now)];
  }

  protected override modelDiagnostic(name: DiagnosticName, params: Record<string, unknown>, context: DiagnosticContext): Promise<unknown> {
    if (name === 'restart-service') return this.restartService(diagnosticParams(name, params).service, context);
    return super.modelDiagnostic(name, params, context);
  }

  /**
   * Stops a service for a few seconds and starts it again; `service.<name>` shows it. A
   * crashed DICOM listener comes back up. Canceled midway, the service is started anyway.
   */
  private async restartService(
    service: RadimetricsService,
    context: DiagnosticContext,
  ): Promise<{ service: string; downtimeSeconds: number; state: string }> {
    const key = `service.${service}`;
    const label = this.label(key);
    context.signal.throwIfAborted();
    context.log(`Restarting ${label}`);
    context.progress(0, `Stopping ${label}`);
    context.log(`Stopping ${label}…`);
    const stoppedAt = Date.now();
    this.restarting.add(service);
    this.write(key, 'stopped');
    let restarted = false;
    try {
      await pause(this.diagnosticStepMs, context.signal);
      context.log(`  ${label} stopped`);
      context.progress(25, 'Waiting for connections to drain');
      context.log('Waiting for open connections to drain…');
      await pause(this.diagnosticStepMs, context.signal);
      context.progress(50, `Starting ${label}`);
      context.log(`Starting ${label}…`);
      await pause(this.diagnosticStepMs, context.signal);
      restarted = true;
    } finally {
      this.bringBack(service, restarted);
    }
    const downtimeSeconds = Math.round((Date.now() - stoppedAt) / 100) / 10;
    context.progress(75, `Checking ${label}`);
    context.log(`Checking ${label}…`);
    await pause(this.diagnosticStepMs / 2, context.signal);
    const state = this.text(key);
    context.progress(100, `${label} ${state}`);
    context.log(`${label} is ${state} (down ${downtimeSeconds.toFixed(1)} s)`);
    return { service, downtimeSeconds, state };
  }

  /** Starts a restarted service again; a full restart also clears a crashed listener. */
  private bringBack(service: RadimetricsService, cureCrash: boolean): void {
    this.restarting.delete(service);
    if (cureCrash && service === 'dicomListener') this.clearFault('service-down');
    const crashed = service === 'dicomListener' && this.hasFault('service-down');
    this.write(`service.${service}`, crashed ? 'stopped' : 'running');
  }

  private label(key: string): string {
    return SERVICE_LABELS[key] ?? key;
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

/**
 * /exports/dose-report-<month>.csv: one row per CT study of the previous month, with
 * synthetic accession numbers (no patient data), as Radimetrics exports for a physicist.
 */
function doseReport(random: SeededRandom, now: number): SeedFile {
  const monthStart = new Date(now);
  monthStart.setUTCDate(1);
  monthStart.setUTCHours(0, 0, 0, 0);
  const reportStart = new Date(monthStart);
  reportStart.setUTCMonth(reportStart.getUTCMonth() - 1);
  const rows = ['study_date,accession,modality,protocol,ctdivol_mgy,dlp_mgy_cm,notification'];
  const studies = random.integer(300, 1500);
  const span = monthStart.getTime() - reportStart.getTime();
  for (let i = 0; i < studies; i += 1) {
    const at = new Date(reportStart.getTime() + (span * (i + random.next())) / studies);
    const { protocol, notifyMgy } = random.pick(DOSE_NOTIFICATION_VALUES);
    const ctdiVol = notifyMgy * random.between(0.3, 1.2);
    const dlp = ctdiVol * random.between(10, 45);
    rows.push([at.toISOString().slice(0, 19), `ACC${random.integer(10_000_000, 99_999_999)}`, 'CT', protocol, ctdiVol.toFixed(2), dlp.toFixed(1), ctdiVol > notifyMgy ? 'yes' : 'no'].join(','));
  }
  const month = reportStart.toISOString().slice(0, 7);
  return { path: `/exports/dose-report-${month}.csv`, content: `${rows.join('\n')}\n`, ageMs: Math.floor(random.next() * Math.max(0, now - monthStart.getTime())) };
}

function clampPercent(value: number, floor: number): number {
  return Math.min(100, Math.max(floor, value));
}
