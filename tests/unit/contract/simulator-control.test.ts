import { describe, expect, it } from 'vitest';
import { TetherError } from '#contract/errors';
import {
  type SimControlCommand,
  type SimControlParse,
  SimControlCommandSchema,
  SimOutputLineSchema,
  parseSimControlLine,
} from '#contract/simulator-control';

const SERIAL = 'SFX-US00001';
const SESSION = 'ses_01HZX3';

/** The command a line stands for (fails the test when the line is refused). */
function command(line: string): SimControlCommand {
  const parsed = parseSimControlLine(line);
  if (!parsed.success) throw new Error(`"${line}" was refused: ${parsed.error.message}`);
  return parsed.command;
}

/** The refusal of a line (fails the test when it is taken). */
function refusal(parsed: SimControlParse): { error: TetherError; id?: number } {
  if (parsed.success) throw new Error(`expected a refusal, got ${JSON.stringify(parsed.command)}`);
  expect(parsed.error).toBeInstanceOf(TetherError);
  expect(parsed.error.code).toBe('VALIDATION_FAILED');
  return parsed;
}

describe('the simulator control protocol', () => {
  it('takes each command in JSON, with its fields and the id echoed in its answer', () => {
    const commands: SimControlCommand[] = [
      { cmd: 'fault', serial: SERIAL, fault: 'pressure-fault' },
      { cmd: 'fault', serial: SERIAL, fault: 'network-flap', durationMs: 5000, id: 7 },
      { cmd: 'clear', serial: SERIAL },
      { cmd: 'list' },
      { cmd: 'consents' },
      { cmd: 'consents', serial: SERIAL },
      { cmd: 'approve', serial: SERIAL, sessionId: SESSION, as: 'Pat Biomed', id: 1 },
      { cmd: 'deny', serial: SERIAL },
      { cmd: 'sessions', serial: SERIAL },
      { cmd: 'revoke', serial: SERIAL, sessionId: SESSION },
      { cmd: 'operator', serial: SERIAL, id: 3 },
      { cmd: 'stop' },
    ];
    for (const sent of commands) expect(command(JSON.stringify(sent))).toEqual(sent);
    expect(new Set(commands.map((c) => c.cmd))).toEqual(new Set(SimControlCommandSchema.options.map((o) => o.shape.cmd.value)));
  });

  it('reads plain words into the same command objects as their JSON', () => {
    const pairs: [words: string, json: SimControlCommand][] = [
      [`fault ${SERIAL} pressure-fault`, { cmd: 'fault', serial: SERIAL, fault: 'pressure-fault' }],
      [`fault ${SERIAL} network-flap 5`, { cmd: 'fault', serial: SERIAL, fault: 'network-flap', durationMs: 5000 }],
      [`clear ${SERIAL}`, { cmd: 'clear', serial: SERIAL }],
      ['list', { cmd: 'list' }],
      ['consents', { cmd: 'consents' }],
      [`consents ${SERIAL}`, { cmd: 'consents', serial: SERIAL }],
      [`approve ${SERIAL}`, { cmd: 'approve', serial: SERIAL }],
      [`approve ${SERIAL} ${SESSION} --as Pat  Biomed`, { cmd: 'approve', serial: SERIAL, sessionId: SESSION, as: 'Pat Biomed' }],
      [`deny ${SERIAL} --as Pat`, { cmd: 'deny', serial: SERIAL, as: 'Pat' }],
      [`  sessions ${SERIAL}  `, { cmd: 'sessions', serial: SERIAL }],
      [`revoke ${SERIAL} ${SESSION}`, { cmd: 'revoke', serial: SERIAL, sessionId: SESSION }],
      [`operator ${SERIAL}`, { cmd: 'operator', serial: SERIAL }],
      ['stop', { cmd: 'stop' }],
    ];
    for (const [words, json] of pairs) {
      expect(command(words), words).toStrictEqual(json);
      expect(command(words), words).toStrictEqual(command(JSON.stringify(json)));
    }
  });

  it('refuses an unknown or missing command, naming the ones it knows, and keeps the id to answer to', () => {
    const unknown = refusal(parseSimControlLine('{"cmd":"meltdown","serial":"SFX-US00001","id":12}'));
    expect(unknown.error.message).toMatch(/cmd: unknown command "meltdown" \(fault, clear, list, .*stop\)/);
    expect(unknown.id).toBe(12);
    expect(refusal(parseSimControlLine('{"serial":"SFX-US00001"}')).error.message).toMatch(/cmd: missing command/);
    expect(refusal(parseSimControlLine('frobnicate SFX-US00001')).error.message).toMatch(/unknown command "frobnicate"/);
  });

  it('refuses a command without its serial, naming the field', () => {
    for (const line of ['{"cmd":"fault","fault":"low-battery","id":4}', 'clear', 'approve', '{"cmd":"revoke"}', 'operator']) {
      expect(refusal(parseSimControlLine(line)).error.message, line).toMatch(/serial: required/);
    }
    expect(refusal(parseSimControlLine('{"cmd":"fault","fault":"low-battery","id":4}')).id).toBe(4);
    expect(refusal(parseSimControlLine('{"cmd":"clear","serial":"not a serial"}')).error.message).toMatch(/^serial: /);
  });

  it('refuses an unknown fault by name, and a missing one', () => {
    const unknown = refusal(parseSimControlLine(`fault ${SERIAL} meltdown`));
    expect(unknown.error.message).toMatch(/fault: unknown fault "meltdown" \(pressure-fault, .*agent-crash\)/);
    expect(refusal(parseSimControlLine(`fault ${SERIAL}`)).error.message).toBe('fault: required');
  });

  it('refuses a duration that is not a positive number, in words and in JSON', () => {
    for (const bad of [0, -5, '10']) {
      const parsed = refusal(parseSimControlLine(JSON.stringify({ cmd: 'fault', serial: SERIAL, fault: 'network-flap', durationMs: bad })));
      expect(parsed.error.message, String(bad)).toMatch(/^durationMs: /);
    }
    for (const bad of ['0', '-1', 'soon']) {
      expect(refusal(parseSimControlLine(`fault ${SERIAL} network-flap ${bad}`)).error.message).toBe(`fault SECONDS must be a positive number, got "${bad}"`);
    }
  });

  it('refuses a line that is not JSON, an id that is not a whole number, and an operator name too long to record', () => {
    expect(refusal(parseSimControlLine('{"cmd":"list"')).error.message).toMatch(/^not JSON: /);
    const fractional = refusal(parseSimControlLine('{"cmd":"list","id":1.5}'));
    expect(fractional.error.message).toMatch(/^id: /);
    expect(fractional.id).toBeUndefined();
    expect(refusal(parseSimControlLine(JSON.stringify({ cmd: 'approve', serial: SERIAL, as: 'x'.repeat(129) }))).error.message).toMatch(/^as: /);
  });

  it('reads the simulator\'s lines: an operator answer is an OperatorState, an error may carry a code', () => {
    const state = { serial: SERIAL, consents: [], sessions: [] };
    expect(SimOutputLineSchema.parse({ event: 'ack', id: 3, cmd: 'operator', ...state })).toEqual({ event: 'ack', id: 3, cmd: 'operator', ...state });
    expect(SimOutputLineSchema.parse({ event: 'operator', ...state })).toEqual({ event: 'operator', ...state });
    expect(SimOutputLineSchema.parse({ event: 'error', id: 2, code: 'VALIDATION_FAILED', message: 'serial: required' })).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(SimOutputLineSchema.safeParse({ event: 'error', code: 'MELTDOWN', message: 'x' }).success).toBe(false);
    // an answer must have the shape of the command it answers
    expect(SimOutputLineSchema.safeParse({ event: 'ack', cmd: 'operator', serial: SERIAL }).success).toBe(false);
    expect(SimOutputLineSchema.safeParse({ event: 'ack', cmd: 'fault', serial: SERIAL, fault: 'meltdown' }).success).toBe(false);
    expect(SimOutputLineSchema.safeParse({ event: 'hello' }).success).toBe(false);
  });
});
