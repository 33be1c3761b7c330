import { CommandAcceptedSchema, CommandListQuerySchema, CommandViewSchema, CreateCommandRequestSchema } from '../../api/commands.ts';
import { CommandOutputQuerySchema, CommandOutputResponseSchema } from '../../api/sessions.ts';
import { jsonRoute, userWith } from '../route.ts';
import { CommandParams, DeviceParams, itemsOf } from './params.ts';

/** Queue, follow and cancel device commands. */
export const COMMAND_ROUTES = {
  'commands.create': jsonRoute({
    method: 'POST', path: '/devices/:deviceId/commands', tags: ['commands'], summary: 'Queue a command for a device',
    caller: userWith('view'), params: DeviceParams, body: CreateCommandRequestSchema, status: 202, response: CommandAcceptedSchema, errors: [400, 401, 403, 404],
  }),
  'commands.listForDevice': jsonRoute({
    method: 'GET', path: '/devices/:deviceId/commands', tags: ['commands'], summary: 'Recent commands of a device, newest first',
    caller: userWith('view'), params: DeviceParams, query: CommandListQuerySchema, status: 200, response: itemsOf(CommandViewSchema), errors: [400, 401, 404],
  }),
  'commands.get': jsonRoute({
    method: 'GET', path: '/commands/:commandId', tags: ['commands'], summary: 'A command with its state, result and history',
    caller: userWith('view'), params: CommandParams, status: 200, response: CommandViewSchema, errors: [401, 404],
  }),
  'commands.output': jsonRoute({
    method: 'GET', path: '/commands/:commandId/output', tags: ['commands'], summary: 'Output lines of a command, after a sequence number',
    caller: userWith('view'), params: CommandParams, query: CommandOutputQuerySchema, status: 200, response: CommandOutputResponseSchema, errors: [400, 401, 404],
  }),
  'commands.cancel': jsonRoute({
    method: 'POST', path: '/commands/:commandId/cancel', tags: ['commands'], summary: 'Cancel a command that has not ended',
    caller: userWith('view'), params: CommandParams, status: 200, response: CommandViewSchema, errors: [401, 403, 404, 409],
  }),
} as const;
