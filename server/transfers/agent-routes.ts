import type { AgentRouteName, AgentRoutes } from '#contract/http/agent-routes';
import { deviceOf } from '../agent-api/device-auth.ts';
import { clientIp } from '../http/errors.ts';
import type { HandlersFor, UploadHandler } from '../http/routes.ts';
import { abortOnClose, sendChunk } from './routes.ts';
import type { TransferService } from './transfer-service.ts';

/**
 * The device side of a transfer, for the device's own agent (its certificate and secret
 * were checked before these run). Another device's transfer does not exist here.
 */
export function agentTransferHandlers(transfers: TransferService, upload: UploadHandler<AgentRoutes['transfers.upload']>): HandlersFor<AgentRoutes, Extract<AgentRouteName, `transfers.${string}`>> {
  return {
    'transfers.get': async (request) => transfers.agentView(deviceOf(request), request.params.transferId, clientIp(request)),
    'transfers.manifest': async (request) => transfers.declareManifest(deviceOf(request), request.params.transferId, request.body, clientIp(request)),
    'transfers.content': async (request, reply) =>
      sendChunk(reply, await transfers.content({ kind: 'agent', device: deviceOf(request), ip: clientIp(request) }, request.params.transferId, request.headers.range, abortOnClose(reply))),
    'transfers.ack': async (request, reply) => {
      const device = deviceOf(request);
      await transfers.ack({ kind: 'agent', device, ip: clientIp(request) }, request.params.transferId, request.body, abortOnClose(reply));
      return transfers.agentView(device, request.params.transferId, clientIp(request));
    },
    'transfers.upload': upload,
  };
}
