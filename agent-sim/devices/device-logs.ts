import type { DeviceModelId } from '#contract/device-models';
import type { LogMessage } from './file-tree.ts';
import type { SeededRandom } from './random.ts';

/**
 * What the simulated equipment writes in its logs: a few message templates per log,
 * filled from the device's generator. They feed the seeded /logs folder and the log
 * bundle alike, so what an engineer downloads reads like the device's own logs. No
 * patient data: accession numbers and study ids are synthetic.
 */

const fixed = (n: number, r: SeededRandom, min: number, max: number) => r.between(min, max).toFixed(n);

/** The operating-system log every delivery device's controller board keeps. */
export const DELIVERY_SYSTEM_LOG: readonly LogMessage[] = [
  (r) => `DEBUG [watchdog] heartbeat ok, load ${fixed(2, r, 0.05, 0.9)}`,
  (r) => `DEBUG [watchdog] heartbeat ok, load ${fixed(2, r, 0.05, 0.9)}`,
  (r) => `INFO  [ntpd] clock synchronised, offset ${fixed(1, r, -40, 40)} ms`,
  () => 'INFO  [kernel] eth0: link up, 100 Mbps full duplex',
  (r) => `INFO  [tether-agent] poll answered in ${r.integer(40, 900)} ms`,
  (r) => `INFO  [storage] /data ${r.integer(18, 64)} % used`,
  (r) => `WARN  [kernel] usb 1-${r.integer(1, 3)}: device descriptor read error -71`,
];

/** An alarm log: raises and clears of the device's own alarms, battery and temperature. */
export function deliveryAlarmLog(lineAlarm: 'PRESSURE_LIMIT' | 'OCCLUSION'): LogMessage[] {
  return [
    (r) => `WARN  [alarm] ${lineAlarm} raised${lineAlarm === 'PRESSURE_LIMIT' ? `: peak ${r.integer(300, 1250)} psi` : ''}`,
    () => `INFO  [alarm] ${lineAlarm} cleared`,
    (r) => `WARN  [alarm] LOW_BATTERY raised: battery ${r.integer(8, 19)} %`,
    () => 'INFO  [alarm] LOW_BATTERY cleared',
    (r) => `WARN  [alarm] OVER_TEMPERATURE raised: ${fixed(1, r, 40.1, 44)} °C`,
    () => 'INFO  [alarm] OVER_TEMPERATURE cleared',
  ];
}

/** What an injector's logs tell of its model: a part of its profile (injector.ts). */
export interface InjectorLogProfile {
  readonly protocols: readonly string[];
  readonly contrast: { readonly min: number; readonly max: number };
  readonly protocolFlowRate: { readonly min: number; readonly max: number };
  readonly pressureLimit: number;
  readonly syringe: { readonly A: number; readonly B: number };
}

/** The controller, injection history and service logs of a contrast injector. */
export function injectorLogs(profile: InjectorLogProfile, softwareVersion: string): Record<'controller' | 'history' | 'service', LogMessage[]> {
  const protocol = (r: SeededRandom) => r.pick(profile.protocols);
  const contrast = (r: SeededRandom) => r.integer(profile.contrast.min, profile.contrast.max);
  const rate = (r: SeededRandom) => fixed(1, r, profile.protocolFlowRate.min, profile.protocolFlowRate.max);
  const syringes = profile.syringe.B > 0 ? ['A', 'B'] : ['A'];
  return {
    controller: [
      (r) => `INFO  [controller] protocol "${protocol(r)}" armed: A ${contrast(r)} mL @ ${rate(r)} mL/s`,
      (r) => `INFO  [controller] injection completed: ${contrast(r)} mL contrast at ${rate(r)} mL/s, peak ${r.integer(80, Math.round(profile.pressureLimit * 0.85))} psi`,
      (r) => `INFO  [controller] syringe ${r.pick(syringes)} plunger retracted, ${r.integer(0, 40)} mL remaining`,
      (r) => `INFO  [controller] scanner interface: ${r.pick(['arm', 'start', 'stop'])} signal received`,
      () => 'DEBUG [head] air check confirmed by operator',
      (r) => `DEBUG [head] head tilted ${r.pick(['up', 'down'])}`,
      (r) => `WARN  [controller] injection paused by operator at ${r.integer(5, 60)} mL delivered`,
    ],
    history: [
      (r) => `INFO  [history] #${r.integer(1000, 99999)} "${protocol(r)}" contrast ${contrast(r)} mL, rate ${rate(r)} mL/s, duration ${r.integer(8, 45)} s, completed`,
      (r) => `INFO  [history] #${r.integer(1000, 99999)} "${protocol(r)}" contrast ${contrast(r)} mL, rate ${rate(r)} mL/s, duration ${r.integer(8, 45)} s, completed`,
      (r) => `WARN  [history] #${r.integer(1000, 99999)} "${protocol(r)}" aborted at ${r.integer(3, 40)} mL: pressure limit`,
    ],
    service: [
      (r) => `INFO  [service] self-test passed (${r.integer(7, 11)} checks)`,
      () => `INFO  [service] firmware ${softwareVersion} checksum verified`,
      (r) => `INFO  [service] battery charge cycle ${r.integer(100, 900)} completed`,
      (r) => `INFO  [service] service port login: field engineer FE-${r.integer(1000, 9999)}`,
      (r) => `INFO  [service] plunger drive ${r.pick(syringes)} odometer ${r.integer(2000, 90000)} m`,
    ],
  };
}

/** The controller, infusion history and dose calibrator logs of the Intego. */
export function infusionLogs(softwareVersion: string): Record<'controller' | 'history' | 'calibrator', LogMessage[]> {
  return {
    controller: [
      (r) => `INFO  [controller] dose drawn: ${r.integer(185, 400)} MBq FDG, vial ${r.integer(2000, 18500)} MBq remaining`,
      (r) => `INFO  [controller] infusion completed: ${r.integer(185, 400)} MBq at ${fixed(1, r, 0.5, 1.5)} mL/s`,
      (r) => `INFO  [controller] saline flush ${r.integer(10, 30)} mL`,
      (r) => `DEBUG [pump] peristaltic drive ${r.integer(20, 80)} rpm, line pressure ${fixed(2, r, 0.05, 0.4)} bar`,
      (r) => `INFO  [controller] new vial loaded: ${r.integer(7400, 18500)} MBq`,
      () => `INFO  [controller] software ${softwareVersion} ready`,
    ],
    history: [
      (r) => `INFO  [history] #${r.integer(1000, 99999)} FDG ${r.integer(185, 400)} MBq prescribed, ${r.integer(180, 400)} MBq delivered, residual ${fixed(1, r, 0.5, 4)} MBq`,
    ],
    calibrator: [
      (r) => `INFO  [calibrator] Cs-137 constancy ${fixed(2, r, -1.8, 1.8)} %, within 2 %`,
      (r) => `INFO  [calibrator] background ${fixed(3, r, 0.001, 0.02)} MBq`,
      (r) => `DEBUG [calibrator] ionisation chamber ${fixed(1, r, 1190, 1210)} V`,
    ],
  };
}

/** The application, DICOM, HL7, audit and Windows event logs of the Radimetrics server. */
export function radimetricsLogs(): Record<'app' | 'dicom' | 'hl7' | 'audit' | 'windows', LogMessage[]> {
  const accession = (r: SeededRandom) => `ACC${r.integer(10_000_000, 99_999_999)}`;
  const modality = (r: SeededRandom) => r.pick(['CT', 'CT', 'CT', 'XA', 'NM', 'MG']);
  return {
    app: [
      (r) => `INFO  [dose] study ${accession(r)} (${modality(r)}) processed: CTDIvol ${fixed(1, r, 2, 60)} mGy, DLP ${r.integer(50, 2400)} mGy·cm`,
      (r) => `INFO  [dose] study ${accession(r)} (${modality(r)}) processed: CTDIvol ${fixed(1, r, 2, 60)} mGy, DLP ${r.integer(50, 2400)} mGy·cm`,
      (r) => `WARN  [dose] dose notification: ${accession(r)} CTDIvol ${fixed(1, r, 26, 90)} mGy above the notification value`,
      (r) => `INFO  [web] report "Monthly dose summary" generated in ${fixed(1, r, 0.4, 9)} s`,
      (r) => `DEBUG [db] connection pool ${r.integer(4, 40)}/50 in use`,
    ],
    dicom: [
      (r) => `INFO  [dicom] association from ${r.pick(['CT1_AE', 'CT2_AE', 'CATH_AE', 'PACS_AE'])} accepted`,
      (r) => `INFO  [dicom] C-STORE ${r.pick(['RDSR', 'CT image', 'Dose screen'])} for ${accession(r)} received (${r.integer(2, 900)} kB)`,
      (r) => `INFO  [dicom] C-STORE ${r.pick(['RDSR', 'CT image', 'Dose screen'])} for ${accession(r)} received (${r.integer(2, 900)} kB)`,
      () => 'INFO  [dicom] association released',
      (r) => `DEBUG [dicom] queue ${r.integer(0, 120)} objects waiting`,
      (r) => `WARN  [dicom] association from ${r.pick(['CT1_AE', 'MOBILE_AE'])} rejected: calling AE title not configured`,
    ],
    hl7: [
      (r) => `INFO  [hl7] ORM^O01 for ${accession(r)} accepted`,
      (r) => `INFO  [hl7] ORU^R01 for ${accession(r)} accepted`,
      (r) => `WARN  [hl7] ADT^A08 ignored: no matching visit (${r.integer(1, 9)} retries)`,
    ],
    audit: [
      (r) => `INFO  [audit] user ${r.pick(['physicist1', 'radadmin', 'techlead'])} signed in`,
      (r) => `INFO  [audit] user ${r.pick(['physicist1', 'radadmin'])} exported dose report (${r.integer(20, 900)} studies)`,
      (r) => `INFO  [audit] notification value for "${r.pick(['CT HEAD WO', 'CT CHEST W', 'CTA CHEST'])}" changed`,
    ],
    windows: [
      () => 'INFO  [EventLog] Service Control Manager: the Radimetrics DICOM service entered the running state',
      (r) => `INFO  [EventLog] Windows Update: ${r.integer(0, 4)} updates pending`,
      (r) => `WARN  [EventLog] Disk: the IO operation at logical block ${r.integer(100000, 9000000)} was retried`,
      (r) => `INFO  [EventLog] Backup: volume shadow copy created in ${r.integer(4, 60)} s`,
    ],
  };
}

/** A stored protocol: its name and phases, and what bounds it. */
export interface StoredProtocol {
  readonly name: string;
  readonly phases: readonly { syringe: string; volumeMl: number; flowRate: number }[];
  readonly pressureLimit?: number;
  readonly doseMBq?: number;
}

/** /config/protocols.xml of a delivery device. */
export function protocolsXml(modelId: DeviceModelId, protocols: readonly StoredProtocol[]): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<protocols model="${modelId}" version="1">`];
  for (const p of protocols) {
    const limits = [p.pressureLimit !== undefined ? ` pressureLimitPsi="${p.pressureLimit}"` : '', p.doseMBq !== undefined ? ` doseMBq="${p.doseMBq}"` : ''].join('');
    lines.push(`  <protocol name="${escapeXml(p.name)}"${limits}>`);
    for (const phase of p.phases) lines.push(`    <phase syringe="${phase.syringe}" volumeMl="${phase.volumeMl}" flowRateMlPerS="${phase.flowRate}"/>`);
    lines.push('  </protocol>');
  }
  lines.push('</protocols>', '');
  return lines.join('\n');
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
