import { describe, expect, it } from 'vitest';
import { commandLabel, formatBytes, formatCommandResult, formatDataValue, formatDiagnosticResult, humanizeKey } from '../../../src/renderer/lib/format.ts';
import { faultLabel, faultOptionsFor, isSimFault } from '../../../src/renderer/lib/sim-faults.ts';
import { SIM_FAULTS } from '#contract/sim-faults';

describe('formatDataValue', () => {
  it('shows numbers with at most two decimals and booleans as Yes/No', () => {
    expect(formatDataValue(42)).toBe('42');
    expect(formatDataValue(3.14159)).toBe('3.14');
    expect(formatDataValue(true)).toBe('Yes');
    expect(formatDataValue(false)).toBe('No');
    expect(formatDataValue('ready')).toBe('ready');
    expect(formatDataValue(undefined)).toBe('—');
  });
});

describe('command results', () => {
  it('turns a flat result into labelled lines', () => {
    expect(formatCommandResult({ deviceState: 'idle', outboundQueued: 0, echo: null })).toEqual({
      kind: 'entries',
      entries: [
        ['Device state', 'idle'],
        ['Outbound queued', '0'],
        ['Echo', '—'],
      ],
    });
  });

  it('reads …Seconds as a duration and epoch …Time as a local date', () => {
    const agentTime = new Date(2025, 0, 2, 3, 4, 5).getTime();
    expect(formatCommandResult({ uptimeSeconds: 3720, agentTime })).toEqual({
      kind: 'entries',
      entries: [
        ['Uptime', '1 h 2 min'],
        ['Agent time', '2025-01-02 03:04:05'],
      ],
    });
  });

  it('falls back to pretty JSON for nested results', () => {
    const result = formatCommandResult({ values: { battery: 80 } });
    expect(result).toEqual({ kind: 'json', text: JSON.stringify({ values: { battery: 80 } }, null, 2) });
  });

  it('names commands the way the buttons do', () => {
    expect(commandLabel('ping')).toBe('Ping');
    expect(commandLabel('read-status')).toBe('Read status');
  });

  it('humanizes camelCase, snake_case and dotted keys', () => {
    expect(humanizeKey('agentTime')).toBe('Agent time');
    expect(humanizeKey('outbound_dropped')).toBe('Outbound dropped');
    expect(humanizeKey('pressure.peak')).toBe('Pressure peak');
  });
});

describe('simulator faults', () => {
  it('has a human label for every fault of the contract', () => {
    for (const fault of SIM_FAULTS) expect(faultLabel(fault)).toMatch(/^[A-Z][a-z-]+( [a-z]+)?$/);
    expect(faultLabel('pressure-fault')).toBe('Pressure fault');
  });

  it('offers injectors their hardware faults and servers theirs, agent faults to both', () => {
    const injector = faultOptionsFor('injector').map((o) => o.value);
    const server = faultOptionsFor('server').map((o) => o.value);
    expect(injector).toEqual(['pressure-fault', 'low-battery', 'over-temperature', 'network-flap', 'agent-crash']);
    expect(server).toEqual(['disk-full', 'service-down', 'queue-backlog', 'network-flap', 'agent-crash']);
    expect(faultOptionsFor('injector')[0]).toEqual({ value: 'pressure-fault', label: 'Pressure fault' });
  });

  it('accepts only the contract faults as Select values', () => {
    expect(isSimFault('pressure-fault')).toBe(true);
    expect(isSimFault('meltdown')).toBe(false);
    expect(isSimFault(null)).toBe(false);
  });
});

describe('diagnostic results', () => {
  it('shows a self-test as its checks with the verdict', () => {
    const checks = [
      { name: 'Power supply', passed: true, detail: '24.1 V' },
      { name: 'Syringe heater', passed: false, detail: 'heater at 29.0 °C' },
    ];
    expect(formatDiagnosticResult({ passed: false, checks })).toEqual({ kind: 'checks', passed: false, checks });
  });

  it('shows a configuration as its settings, and a log bundle with its size in bytes made readable', () => {
    expect(formatDiagnosticResult({ settings: { 'pressure.limit': 300, language: 'en' } })).toEqual({
      kind: 'entries',
      entries: [
        ['Pressure limit', '300'],
        ['Language', 'en'],
      ],
    });
    expect(formatDiagnosticResult({ fileName: 'SFX-logs.tar.gz', sizeBytes: 1_572_864, entries: 9000 })).toEqual({
      kind: 'entries',
      entries: [
        ['File name', 'SFX-logs.tar.gz'],
        ['Size', '1.5 MB'],
        ['Entries', '9000'],
      ],
    });
  });

  it('formats sizes the way a file manager does', () => {
    expect(formatBytes(812)).toBe('812 B');
    expect(formatBytes(3_500)).toBe('3.4 kB');
    expect(formatBytes(14_540)).toBe('14 kB');
    expect(formatBytes(350 * 1024 * 1024)).toBe('350 MB');
  });

  it('names the diagnostics from the catalog', () => {
    expect(commandLabel('collect-log-bundle')).toBe('Collect log bundle');
  });
});
