import { z } from 'zod';
import { ErrorBodySchema } from '../errors.ts';
import { DEVICE_SECRET_HEADER } from '../protocol/enroll.ts';
import { TRANSFER_HEADERS } from '../protocol/transfers.ts';
import type { HttpMethod, RouteCaller, RouteSpec, RouteTable } from './route.ts';

type JsonSchema = Record<string, unknown>;

/** An OpenAPI 3.1 document (the parts we write). */
export type OpenApiDocument = {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  components: { securitySchemes: Record<string, JsonSchema>; schemas: Record<string, JsonSchema> };
  paths: Record<string, Record<string, JsonSchema>>;
};

const STATUS_TEXT: Record<number, string> = {
  101: 'Switching Protocols', 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 206: 'Partial Content',
  400: 'Invalid request', 401: 'Not signed in, or not this device', 403: 'Not allowed', 404: 'No such record in your scope',
  409: 'Conflicts with the current state', 410: 'Gone', 413: 'Too large', 422: 'Does not match what was declared',
  423: 'Account locked', 429: 'Too many requests',
};

const schemaOf = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

/** One OpenAPI parameter per property of a params or query object. */
function parametersOf(schema: z.ZodObject | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const json = schemaOf(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}

function securityOf(caller: RouteCaller): JsonSchema[] | undefined {
  switch (caller.kind) {
    case 'user':
      return [{ bearer: [] }];
    case 'device':
      return [{ deviceCertificate: [], deviceSecret: [] }];
    case 'tunnel-leg':
    case 'anyone':
      return undefined;
  }
}

const errorAnswers = (route: RouteSpec): Record<string, JsonSchema> =>
  Object.fromEntries(route.errors.map((status) => [String(status), { description: STATUS_TEXT[status] ?? 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]));

/** The operations of one route: most have one method, a tus resource two. */
function operationsOf(name: string, route: RouteSpec): [method: HttpMethod, operation: JsonSchema][] {
  const security = securityOf(route.caller);
  const common = {
    tags: [...route.tags],
    summary: route.summary,
    ...(route.caller.kind === 'user' ? { 'x-tether-capability': route.caller.capability } : {}),
    ...(security ? { security } : {}),
  };
  const path = parametersOf(route.params, 'path');
  switch (route.kind) {
    case 'json': {
      const success = route.status === 204
        ? { description: STATUS_TEXT[204] }
        : { description: STATUS_TEXT[route.status], content: { 'application/json': { schema: schemaOf(route.response, 'output') } } };
      return [[route.method, {
        operationId: name,
        ...common,
        parameters: [...path, ...parametersOf(route.query, 'query')],
        ...(route.body ? { requestBody: { required: !route.body.safeParse(undefined).success, content: { 'application/json': { schema: schemaOf(route.body, 'input') } } } } : {}),
        responses: { [String(route.status)]: success, ...errorAnswers(route) },
      }]];
    }
    case 'content':
      return [['GET', {
        operationId: name,
        ...common,
        parameters: [...path, { name: 'range', in: 'header', required: true, schema: { type: 'string', pattern: '^bytes=\\d+-\\d+$' } }],
        responses: {
          206: {
            description: 'One chunk of the file',
            headers: {
              [TRANSFER_HEADERS.chunkIndex]: { schema: { type: 'integer' } },
              [TRANSFER_HEADERS.chunkSha256]: { schema: { type: 'string' } },
            },
            content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
          },
          ...errorAnswers(route),
        },
      }]];
    case 'tus':
      return [
        ['HEAD', { operationId: `${name}.offset`, ...common, parameters: path, responses: { 200: { description: 'Upload-Offset: the bytes the server holds' }, ...errorAnswers(route) } }],
        ['PATCH', {
          operationId: `${name}.append`,
          ...common,
          parameters: path,
          requestBody: { required: true, content: { 'application/offset+octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
          responses: { 204: { description: 'Upload-Offset: the bytes the server holds now' }, ...errorAnswers(route) },
        }],
      ];
    case 'websocket':
      return [['GET', {
        operationId: name,
        ...common,
        parameters: path,
        responses: { 101: { description: `WebSocket${route.subprotocol ? ` (subprotocol ${route.subprotocol})` : ''}` }, ...errorAnswers(route) },
      }]];
  }
}

/**
 * The OpenAPI document of route tables, made from the tables alone: the server serves it
 * and `npm run docs:openapi` writes it, so neither can drift from the routes.
 */
export function openApiDocument(tables: readonly RouteTable[], info: { version: string }): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const table of tables) {
    for (const [name, route] of Object.entries(table.routes)) {
      if (route.kind === 'json' && route.hidden) continue;
      const path = `${table.prefix}${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`;
      for (const [method, operation] of operationsOf(name, route)) (paths[path] ??= {})[method.toLowerCase()] = operation;
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Tether API', version: info.version, description: 'Console API (/api/v1) and agent protocol (/agent/v1).' },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        deviceCertificate: { type: 'mutualTLS', description: 'A client certificate issued by the server\'s device CA at enrollment' },
        deviceSecret: { type: 'apiKey', in: 'header', name: DEVICE_SECRET_HEADER },
      },
      schemas: { Error: schemaOf(ErrorBodySchema, 'output') },
    },
    paths,
  };
}
