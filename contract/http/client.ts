import type { z } from 'zod';
import {
  type HttpMethod,
  type JsonRoute,
  type RouteAnswer,
  type RouteBody,
  type RouteParams,
  type RouteQuery,
  type RouteSpec,
  type RouteTable,
  routePath,
} from './route.ts';

/** One call of a JSON route, ready for a transport to send. */
export interface RouteRequest {
  /** The route's name in its table, for messages. */
  readonly name: string;
  readonly method: Exclude<HttpMethod, 'HEAD'>;
  /** Prefix, path with its parameters encoded, and the query. */
  readonly path: string;
  /** The JSON body; undefined when the route takes none. */
  readonly body: unknown;
  /** Parses the success answer (the transport applies it and says what a mismatch means to its user). */
  readonly response: z.ZodType;
}

/**
 * Sends one request and resolves to the parsed answer. The transport owns the
 * connection, credentials, the mapping of error answers to TetherErrors and what a
 * mismatched answer means; the client owns everything the route table says.
 */
export type RouteSender<O> = (request: RouteRequest, options: O | undefined) => Promise<unknown>;

/** The names of a table's JSON routes (the ones `call` speaks). */
export type JsonRouteName<R extends Record<string, RouteSpec>> = { [K in keyof R]: R[K] extends JsonRoute ? K : never }[keyof R] & string;

/** `call`'s arguments after the name: path parameters, then the body (or the query), then the transport's options. */
export type CallArgs<R extends RouteSpec, O> = R extends { body: z.ZodType }
  ? [params: RouteParams<R>, body: RouteBody<R>, options?: O]
  : R extends { query: z.ZodObject }
    ? [params: RouteParams<R>, query?: RouteQuery<R>, options?: O]
    : [params: RouteParams<R>, input?: undefined, options?: O];

/**
 * A typed client over one route table: `api.call('commands.create', { deviceId }, body)`.
 * Paths are built from the table only (every segment encoded), so no caller writes one.
 */
export class RouteClient<R extends Record<string, RouteSpec>, O = undefined> {
  constructor(
    private readonly table: RouteTable<R>,
    private readonly send: RouteSender<O>,
  ) {}

  /** Calls a JSON route and resolves to its parsed answer. */
  call<N extends JsonRouteName<R>>(name: N, ...args: CallArgs<R[N], O>): Promise<RouteAnswer<R[N]>> {
    const route = this.table.routes[name] as JsonRoute;
    const [params, input, options] = args as unknown as [Record<string, unknown>, unknown, O | undefined];
    const takesBody = route.body !== undefined;
    const path = routePath(this.table.prefix, route, params, takesBody ? undefined : (input as Record<string, unknown> | undefined));
    return this.send({ name, method: route.method, path, body: takesBody ? input : undefined, response: route.response }, options) as Promise<RouteAnswer<R[N]>>;
  }

  /** The path (under the prefix) of any route, for callers that speak its bytes themselves: content, tus, WebSocket. */
  path<N extends keyof R & string>(name: N, params: RouteParams<R[N]>, query?: Record<string, string | number | undefined>): string {
    return pathOf(this.table, name, params, query);
  }
}

/** The path (under the prefix) of a route of a table, with its parameters encoded. */
export function pathOf<R extends Record<string, RouteSpec>, N extends keyof R & string>(
  table: RouteTable<R>,
  name: N,
  params: RouteParams<R[N]>,
  query?: Record<string, string | number | undefined>,
): string {
  return routePath(table.prefix, table.routes[name] as RouteSpec, params as Record<string, unknown>, query);
}
