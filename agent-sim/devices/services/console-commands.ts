import { DEVICE_MODELS } from '#contract/device-models';
import { type ServiceStatusSource, formatValue, serviceStatus } from './status.ts';

/** What one line typed at the service console answers, and whether the console hangs up after it. */
export interface ConsoleAnswer {
  lines: string[];
  close: boolean;
}

const HELP = [
  'help          this list',
  'status        model, software, state and alarm count',
  'items         every data item with its value',
  'log [n]       the last n events (default 10, at most 100)',
  'alarms        the alarms raised now',
  'exit          close the console',
];

const LOG_DEFAULT = 10;
const LOG_MAX = 100;

/** The prompt the console prints before each line it reads. */
export const consolePrompt = (serial: string): string => `${serial}> `;

/** The greeting printed when an engineer connects. */
export function consoleBanner(source: ServiceStatusSource): string[] {
  return [`${DEVICE_MODELS[source.modelId].name} — service console`, `Serial ${source.serial}, software ${source.softwareVersion}. Type "help" for commands.`];
}

/**
 * Runs one line of the service console against the equipment. Pure apart from reading
 * the source, so every command is testable without a socket.
 */
export function runConsoleCommand(line: string, source: ServiceStatusSource, now: number = Date.now()): ConsoleAnswer {
  const [command = '', ...args] = line.trim().split(/\s+/);
  const answer = (lines: string[], close = false): ConsoleAnswer => ({ lines, close });
  switch (command.toLowerCase()) {
    case '':
      return answer([]);
    case 'help':
      return answer(HELP);
    case 'status': {
      const status = serviceStatus(source, now);
      return answer([
        `model     ${status.model}`,
        `serial    ${status.serial}`,
        `software  ${status.softwareVersion}`,
        `state     ${status.state}`,
        `alarms    ${status.alarms.length === 0 ? 'none' : String(status.alarms.length)}`,
        `time      ${status.at}`,
      ]);
    }
    case 'items': {
      const { items } = serviceStatus(source, now);
      const width = Math.max(...items.map((i) => i.key.length));
      return answer(items.map((i) => `${i.key.padEnd(width)}  ${formatValue(i.value, i.unit)}`));
    }
    case 'log': {
      const count = args[0] === undefined ? LOG_DEFAULT : Number(args[0]);
      if (!Number.isInteger(count) || count < 1 || count > LOG_MAX) return answer([`log takes a count from 1 to ${LOG_MAX}, e.g. "log 20"`]);
      const events = source.recentEvents(count);
      if (events.length === 0) return answer(['no events yet']);
      return answer(events.map((e) => `${new Date(e.at).toISOString()}  ${e.severity.padEnd(8)} ${e.type}  ${e.message}`));
    }
    case 'alarms': {
      const alarms = source.activeAlarms();
      if (alarms.length === 0) return answer(['no alarms raised']);
      return answer(alarms.map((a) => `${a.severity.padEnd(8)} ${a.code}  ${a.message}`));
    }
    case 'exit':
    case 'quit':
      return answer(['bye'], true);
    default:
      return answer([`unknown command "${command.slice(0, 40)}"; type "help" for the list`]);
  }
}
