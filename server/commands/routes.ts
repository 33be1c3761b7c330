import type { COMMAND_ROUTES } from '#contract/http/api/commands';
import type { ApiRoutes } from '#contract/http/api-routes';
import { principalOf } from '../http/auth-hook.ts';
import { clientIp } from '../http/errors.ts';
import type { HandlersFor } from '../http/routes.ts';
import type { CommandService } from './command-service.ts';

/** Queue, follow and cancel device commands. */
export function commandHandlers(commands: CommandService): HandlersFor<ApiRoutes, keyof typeof COMMAND_ROUTES> {
  return {
    'commands.create': async (request) => commands.create(principalOf(request), request.params.deviceId, request.body, clientIp(request)),
    'commands.listForDevice': async (request) => ({ items: await commands.listForDevice(principalOf(request), request.params.deviceId, request.query.limit) }),
    'commands.get': async (request) => commands.get(principalOf(request), request.params.commandId),
    'commands.output': async (request) => commands.output(principalOf(request), request.params.commandId, request.query.after, request.query.limit),
    'commands.cancel': async (request) => commands.cancel(principalOf(request), request.params.commandId, clientIp(request)),
  };
}
