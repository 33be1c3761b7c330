import { describe, expect, it } from 'vitest';
import type { DeviceSignal, DiagnosticContext } from '../../../../agent-sim/agent/device.ts';
import { type SimulatedDevice, createSimulatedDevice } from '../../../../agent-sim/devices/index.ts';
import { DEVICE_MODELS, DEVICE_MODEL_IDS, type DeviceModelId } from '#contract/device-models';
import { DIAGNOSTIC_CATALOG, diagnosticsFor, type DiagnosticName } from '#contract/protocol/diagnostics';

/** Typical parameters per diagnostic (the catalog's defaults fill in the rest). */
const PARAMS: Readonly<Record<DiagnosticName, Record<string, unknown>>> = {
  'self-test': {},
  'pressure-transducer-check': { targetPsi: 300 },
  'plunger-calibration-check': { syringe: 'A' },
  'collect-log-bundle': { hours: 2 },
  'read-configuration': {},
  'set-data-item': {},
  'restart-service': { service: 'web' },
};

/** A data item each model may be written, and a value of its type. */
const WRITABLE: Readonly<Record<DeviceModelId, { key: string; value: number | string }>> = {
  'stellant-flex': { key: 'pressure.limit', value: 300 },
  mrxperion: { key: 'pressure.limit', value: 250 },
  'mark7-arterion': { key: 'pressure.limit', value: 900 },
  intego: { key: 'errorCode', value: '' },
  radimetrics: { key: 'service.web', value: 'stopped' },
};

function device(modelId: DeviceModelId, stepMs = 2): { device: SimulatedDevice; signals: DeviceSignal[] } {
  const made = createSimulatedDevice({ serial: `${DEVICE_MODELS[modelId].serialPrefix}-DIAG01`, modelId, diagnosticStepMs: stepMs });
  const signals: DeviceSignal[] = [];
  made.subscribe((s) => signals.push(s));
  return { device: made, signals };
}

/** What a diagnostic reported while it ran. */
interface Recorded extends DiagnosticContext {
  lines: string[];
  steps: { percent: number; message?: string }[];
  controller: AbortController;
}

function context(): Recorded {
  const controller = new AbortController();
  const recorded: Recorded = {
    signal: controller.signal,
    controller,
    lines: [],
    steps: [],
    progress: (percent, message) => recorded.steps.push({ percent, ...(message ? { message } : {}) }),
    log: (line) => recorded.lines.push(line),
  };
  return recorded;
}

function paramsFor(modelId: DeviceModelId, name: DiagnosticName): Record<string, unknown> {
  return name === 'set-data-item' ? WRITABLE[modelId] : PARAMS[name];
}

describe.each(DEVICE_MODEL_IDS)('%s diagnostics', (modelId) => {
  it.each(diagnosticsFor(modelId))('%s completes with a schema-valid result, progress and output', async (name) => {
    const { device: sim } = device(modelId);
    const ctx = context();
    const result = await sim.runDiagnostic(name, paramsFor(modelId, name), ctx);
    expect(DIAGNOSTIC_CATALOG[name].result.safeParse(result).success).toBe(true);
    expect(ctx.lines.length).toBeGreaterThan(0);
    expect(ctx.steps.at(-1)?.percent).toBe(100);
    const percents = ctx.steps.map((p) => p.percent);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
  });

  it.each(diagnosticsFor(modelId))('%s stops promptly when aborted midway', async (name) => {
    const { device: sim } = device(modelId, 200);
    const ctx = context();
    const started = Date.now();
    const run = sim.runDiagnostic(name, paramsFor(modelId, name), ctx);
    setTimeout(() => ctx.controller.abort(), 50);
    await expect(run).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(180); // well before the 200 ms step ends
  });

  it('offers exactly the catalog\'s diagnostics for the model, and refuses the others', async () => {
    const { device: sim } = device(modelId);
    expect(sim.diagnostics.offered()).toEqual(diagnosticsFor(modelId));
    const other = (Object.keys(DIAGNOSTIC_CATALOG) as DiagnosticName[]).find((n) => !diagnosticsFor(modelId).includes(n));
    if (other) await expect(sim.runDiagnostic(other, PARAMS[other], context())).rejects.toMatchObject({ code: 'UNKNOWN_COMMAND' });
  });
});

describe('self-test', () => {
  it('runs about six checks, more when extended, and fails the transducer under a pressure fault', async () => {
    const { device: sim } = device('stellant-flex');
    const standard = DIAGNOSTIC_CATALOG['self-test'].result.parse(await sim.runDiagnostic('self-test', {}, context()));
    expect(standard.passed).toBe(true);
    expect(standard.checks.length).toBeGreaterThanOrEqual(6);
    const extended = DIAGNOSTIC_CATALOG['self-test'].result.parse(await sim.runDiagnostic('self-test', { extended: true }, context()));
    expect(extended.checks.length).toBeGreaterThan(standard.checks.length);

    sim.injectFault('pressure-fault');
    const ctx = context();
    const faulty = DIAGNOSTIC_CATALOG['self-test'].result.parse(await sim.runDiagnostic('self-test', {}, ctx));
    expect(faulty.passed).toBe(false);
    expect(faulty.checks.find((c) => !c.passed)).toMatchObject({ name: 'Pressure transducer', detail: expect.stringContaining('E-PRESS-07') });
    expect(ctx.lines.at(-1)).toBe('Self-test FAILED: Pressure transducer');
  });

  it('finds a crashed DICOM listener on a Radimetrics server', async () => {
    const { device: sim } = device('radimetrics');
    sim.injectFault('service-down');
    sim.tick();
    const result = DIAGNOSTIC_CATALOG['self-test'].result.parse(await sim.runDiagnostic('self-test', {}, context()));
    expect(result.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['DICOM listener']);
  });
});

describe('pressure transducer check', () => {
  it('ramps to the target, reads back within tolerance on a healthy injector and outside it under a pressure fault', async () => {
    const { device: sim } = device('stellant-flex');
    const ctx = context();
    const healthy = DIAGNOSTIC_CATALOG['pressure-transducer-check'].result.parse(await sim.runDiagnostic('pressure-transducer-check', { targetPsi: 300 }, ctx));
    expect(healthy).toMatchObject({ targetPsi: 300, withinTolerance: true });
    expect(ctx.lines.filter((l) => l.startsWith('Ramping to')).map((l) => l.replace('…', ''))).toEqual(['Ramping to 75 psi', 'Ramping to 150 psi', 'Ramping to 225 psi', 'Ramping to 300 psi']);

    sim.injectFault('pressure-fault');
    const faulty = DIAGNOSTIC_CATALOG['pressure-transducer-check'].result.parse(await sim.runDiagnostic('pressure-transducer-check', { targetPsi: 300 }, context()));
    expect(faulty.withinTolerance).toBe(false);
    expect(faulty.errorPercent).toBeGreaterThan(2);
  });

  it('refuses a target above the model\'s pressure rating', async () => {
    const { device: sim } = device('stellant-flex');
    await expect(sim.runDiagnostic('pressure-transducer-check', { targetPsi: 1000 }, context())).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('325 psi') });
  });
});

describe('plunger calibration check', () => {
  it('measures the offset of syringe B on a dual-syringe injector, and refuses B on a single-syringe one', async () => {
    const dual = device('stellant-flex').device;
    const result = DIAGNOSTIC_CATALOG['plunger-calibration-check'].result.parse(await dual.runDiagnostic('plunger-calibration-check', { syringe: 'B' }, context()));
    expect(result).toMatchObject({ syringe: 'B', withinTolerance: true });
    expect(Math.abs(result.offsetMm)).toBeLessThanOrEqual(0.5);
    const single = device('mark7-arterion').device;
    await expect(single.runDiagnostic('plunger-calibration-check', { syringe: 'B' }, context())).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('collect log bundle', () => {
  it('reports progress per log while collecting and names the bundle; system logs add to it', async () => {
    const { device: sim } = device('radimetrics');
    const ctx = context();
    const bundle = DIAGNOSTIC_CATALOG['collect-log-bundle'].result.parse(await sim.runDiagnostic('collect-log-bundle', { hours: 24 }, ctx));
    expect(bundle.fileName).toMatch(/^RAD-DIAG01-logs-\d{8}T\d{6}Z\.tar\.gz$/);
    expect(bundle.entries).toBeGreaterThan(1000);
    expect(bundle.sizeBytes).toBeGreaterThan(bundle.entries);
    expect(ctx.steps.length).toBeGreaterThanOrEqual(5);
    const withSystem = context();
    await sim.runDiagnostic('collect-log-bundle', { hours: 24, includeSystem: true }, withSystem);
    expect(withSystem.lines.some((l) => l.includes('windows-event.log'))).toBe(true);
    expect(ctx.lines.some((l) => l.includes('windows-event.log'))).toBe(false);
  });
});

describe('read configuration', () => {
  it('returns the model\'s settings, never patient data', async () => {
    const { device: sim } = device('mrxperion');
    const { settings } = DIAGNOSTIC_CATALOG['read-configuration'].result.parse(await sim.runDiagnostic('read-configuration', {}, context()));
    expect(settings).toMatchObject({ serial: 'MRX-DIAG01', model: 'mrxperion', 'pressure.limit': 325, 'syringeA.capacity': 65, 'syringeB.capacity': 115 });
  });
});

describe('set a data item', () => {
  it('changes the device\'s value and reports it as a data change at once', async () => {
    const { device: sim, signals } = device('stellant-flex');
    const result = await sim.runDiagnostic('set-data-item', { key: 'pressure.limit', value: 300 }, context());
    expect(result).toEqual({ key: 'pressure.limit', previous: 325, value: 300 });
    expect(sim.read(['pressure.limit'])).toEqual({ 'pressure.limit': 300 });
    expect(signals).toContainEqual(expect.objectContaining({ kind: 'data', key: 'pressure.limit', value: 300, written: true }));
  });

  it('refuses a key outside the model\'s catalog, or a value of the wrong type, with VALIDATION_FAILED', async () => {
    const { device: sim } = device('stellant-flex');
    await expect(sim.runDiagnostic('set-data-item', { key: 'cpu', value: 5 }, context())).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('no data item "cpu"') });
    await expect(sim.runDiagnostic('set-data-item', { key: 'pressure.limit', value: 'high' }, context())).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('takes a number') });
    expect(sim.read(['pressure.limit'])).toEqual({ 'pressure.limit': 325 });
  });
});

describe('restart service (Radimetrics)', () => {
  const serviceStates = (signals: DeviceSignal[], key: string) =>
    signals.flatMap((s) => (s.kind === 'data' && s.key === key && s.written ? [s.value] : []));

  it('stops the service for a few steps and brings it back; the data item shows both', async () => {
    const { device: sim, signals } = device('radimetrics', 20);
    const result = DIAGNOSTIC_CATALOG['restart-service'].result.parse(await sim.runDiagnostic('restart-service', { service: 'hl7Interface' }, context()));
    expect(result).toMatchObject({ service: 'hl7Interface', state: 'running' });
    expect(result.downtimeSeconds).toBeGreaterThanOrEqual(0.05);
    expect(serviceStates(signals, 'service.hl7Interface')).toEqual(['stopped', 'running']);
  });

  it('brings a crashed DICOM listener back up, and keeps it stopped while restarting even across ticks', async () => {
    const { device: sim, signals } = device('radimetrics', 20);
    sim.injectFault('service-down');
    sim.tick();
    const ctx = context();
    const run = sim.runDiagnostic('restart-service', { service: 'dicomListener' }, ctx);
    await new Promise((resolve) => setTimeout(resolve, 10));
    sim.tick();
    expect(sim.read(['service.dicomListener'])).toEqual({ 'service.dicomListener': 'stopped' });
    const result = await run;
    expect(result).toMatchObject({ service: 'dicomListener', state: 'running' });
    expect(sim.faults.has('service-down')).toBe(false);
    sim.tick();
    expect(sim.read(['service.dicomListener'])).toEqual({ 'service.dicomListener': 'running' });
    expect(signals.some((s) => s.kind === 'event' && s.report.type === 'fault.cleared')).toBe(true);
  });

  it('starts the service again when the restart is canceled midway', async () => {
    const { device: sim, signals } = device('radimetrics', 200);
    const ctx = context();
    const run = sim.runDiagnostic('restart-service', { service: 'web' }, ctx);
    setTimeout(() => ctx.controller.abort(), 30);
    await expect(run).rejects.toThrow();
    expect(sim.read(['service.web'])).toEqual({ 'service.web': 'running' });
    expect(serviceStates(signals, 'service.web')).toEqual(['stopped', 'running']);
  });
});
