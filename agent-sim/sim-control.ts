import { TetherError } from '#contract/errors';
import { type SimAck, type SimControlCommand, type SimOutputLine, parseSimControlLine } from '#contract/simulator-control';
import type { Fleet, OperatorView } from './fleet.ts';

/** Who the operator at the device says they are, unless told (`--as`). */
const DEFAULT_OPERATOR = 'Device operator';

/** Prints one line of the simulator's output: the text for a person, or the JSON line with --json. */
export type SimSay = (human: string, line: SimOutputLine) => void;

/** What a command that went through answers: text for a person, the ack line for --json. */
interface SimControlAnswer {
  human: string;
  line: SimAck;
}

/**
 * The simulator's end of its control protocol (contract/simulator-control.ts): reads each
 * control line, runs the command against the fleet — as the trainee injecting faults, and
 * as the operator at a device — and answers it; tells of every change the operator at a
 * device would see.
 */
export class SimControl {
  constructor(
    private readonly fleet: Fleet,
    private readonly say: SimSay,
    private readonly stop: (reason: string) => Promise<void>,
  ) {}

  /** Answers one control line, plain words or JSON: an ack, or an error line naming what is wrong — never a throw. */
  answer(line: string): void {
    if (!line.trim()) return;
    const parsed = parseSimControlLine(line);
    // a refusal takes the same (asynchronous) way as an answer, so answers keep the order of their lines
    const id = parsed.success ? parsed.command.id : parsed.id;
    void (parsed.success ? this.run(parsed.command) : Promise.reject(parsed.error)).then(
      (answer) => answer && this.say(answer.human, answer.line),
      (err: unknown) => this.refuse(err, id),
    );
  }

  /** A device's consent requests or sessions changed: what its operator sees now. */
  announceOperator(serial: string): void {
    const view = this.fleet.operatorView(serial);
    this.say(describeOperatorView(view), { event: 'operator', ...view });
  }

  private refuse(err: unknown, id: number | undefined): void {
    const message = (err as Error).message;
    this.say(`error: ${message}`, { event: 'error', id, ...(err instanceof TetherError ? { code: err.code } : {}), message });
  }

  private async run(command: SimControlCommand): Promise<SimControlAnswer | undefined> {
    const { fleet } = this;
    const id = command.id;
    switch (command.cmd) {
      case 'fault': {
        const { serial, fault } = command;
        await fleet.inject(serial, fault, command.durationMs);
        return { human: `${fault} injected on ${serial}`, line: { event: 'ack', id, cmd: 'fault', serial, fault } };
      }
      case 'clear':
        fleet.clear(command.serial);
        return { human: `faults cleared on ${command.serial}`, line: { event: 'ack', id, cmd: 'clear', serial: command.serial } };
      case 'list': {
        const devices = [...fleet.members.values()].map((m) => ({ serial: m.serial, model: m.modelId, state: m.device.state(), agent: m.agent.state, faults: [...m.device.faults] }));
        const human = devices.map((d) => `${d.serial.padEnd(14)} ${d.model.padEnd(15)} ${d.state.padEnd(10)} ${d.agent}${d.faults.length ? `  faults: ${d.faults.join(', ')}` : ''}`).join('\n');
        return { human, line: { event: 'ack', id, cmd: 'list', devices } };
      }
      case 'consents': {
        const consents = fleet.operatorViews(command.serial).flatMap((v) =>
          v.consents.map((c) => ({ serial: v.serial, ...c, remainingSeconds: Math.ceil(c.expiresInMs / 1000) })),
        );
        const human = consents.length
          ? consents.map((c) => `${c.serial.padEnd(14)} ${c.sessionId}  ${describeConsent(c)}`).join('\n')
          : 'no consent requests waiting';
        return { human, line: { event: 'ack', id, cmd: 'consents', consents } };
      }
      case 'sessions': {
        const sessions = fleet.operatorViews(command.serial).flatMap((v) =>
          v.sessions.map((s) => ({ serial: v.serial, ...s, remainingSeconds: Math.max(0, Math.ceil((s.expiresAt - Date.now()) / 1000)) })),
        );
        const human = sessions.length
          ? sessions.map((s) => `${s.serial.padEnd(14)} ${s.sessionId}  ${describeSession(s)}`).join('\n')
          : 'no active sessions';
        return { human, line: { event: 'ack', id, cmd: 'sessions', sessions } };
      }
      case 'approve':
      case 'deny': {
        const { cmd, serial } = command;
        const decision = fleet.decideConsent(serial, command.sessionId, cmd === 'approve', operatorName(command.as));
        return {
          human: `${decision.approve ? 'approved' : 'denied'}: ${decision.kind === 'extend' ? 'extension of ' : ''}session ${decision.sessionId} on ${serial} (as ${decision.operator})`,
          line: { event: 'ack', id, cmd, serial, ...decision },
        };
      }
      case 'revoke': {
        const { serial } = command;
        const revocation = fleet.revokeSession(serial, command.sessionId, operatorName(command.as));
        return { human: `revoked: session ${revocation.sessionId} on ${serial} (as ${revocation.operator})`, line: { event: 'ack', id, cmd: 'revoke', serial, ...revocation } };
      }
      case 'operator': {
        const view = fleet.operatorView(command.serial);
        return { human: describeOperatorView(view), line: { event: 'ack', id, cmd: 'operator', ...view } };
      }
      case 'stop':
        await this.stop('stop command');
        return undefined;
    }
  }
}

/** The operator's name as given (`as`), or the default when blank. */
function operatorName(as: string | undefined): string {
  return as?.trim() ? as : DEFAULT_OPERATOR;
}

function describeConsent(c: OperatorView['consents'][number]): string {
  const what = c.kind === 'extend' ? `wants ${c.durationMinutes} more min` : `requests ${c.scopes.join(', ')} for ${c.durationMinutes} min`;
  return `${c.engineer.displayName} (${c.engineer.username}) ${what}: "${c.reason}" — ${Math.ceil(c.expiresInMs / 1000)} s to answer`;
}

function describeSession(s: OperatorView['sessions'][number]): string {
  const observers = s.observers.length ? `, observers ${s.observers.map((o) => o.displayName).join(', ')}` : '';
  const left = Math.max(0, Math.round((s.expiresAt - Date.now()) / 60_000));
  return `controller ${s.controller.displayName} (${s.controller.username})${observers}; ${s.scopes.join(', ')}; ${left} min left: "${s.reason}"`;
}

/** The operator's view of one device, as a few lines of text. */
function describeOperatorView(view: OperatorView): string {
  const lines = [
    ...view.consents.map((c) => `  consent ${c.sessionId}: ${describeConsent(c)} — "approve ${view.serial}" or "deny ${view.serial}"`),
    ...view.sessions.map((s) => `  session ${s.sessionId}: ${describeSession(s)}`),
  ];
  return [`${view.serial}: ${lines.length ? '' : 'no consent requests, no sessions'}`.trimEnd(), ...lines].join('\n');
}
