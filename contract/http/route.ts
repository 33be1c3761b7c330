import type { z } from 'zod';
import type { Capability } from '../api/auth.ts';
import { TetherError } from '../errors.ts';

/** The HTTP methods a route of ours answers. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

/** The error statuses a route documents (its body is always `{ error: { code, message } }`). */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 422 | 423 | 429;

/**
 * Who may call a route. `user`: a signed-in technician whose role has the capability
 * (scope is checked against each record). `device`: an enrolled agent — device
 * certificate and device secret. `tunnel-leg`: the relay admits the caller itself (a
 * one-time ticket and access token for a console, the device's certificate and secret for
 * an agent). `anyone`: no credentials (the handler may check a code of its own).
 */
export type RouteCaller =
  | { readonly kind: 'anyone' }
  | { readonly kind: 'user'; readonly capability: Capability }
  | { readonly kind: 'device' }
  | { readonly kind: 'tunnel-leg' };

interface RouteBase {
  /** Fastify syntax, relative to the table's prefix: `/devices/:deviceId/commands`. */
  readonly path: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly caller: RouteCaller;
  readonly params?: z.ZodObject;
  readonly errors: readonly ErrorStatus[];
}

/** JSON in (params, query, body), JSON out. */
export interface JsonRoute extends RouteBase {
  readonly kind: 'json';
  readonly method: Exclude<HttpMethod, 'HEAD'>;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** The success status; 204 answers no body. */
  readonly status: 200 | 201 | 202 | 204;
  readonly response: z.ZodType;
  /** Left out of the OpenAPI document (the document itself). */
  readonly hidden?: boolean;
}

/** A file's bytes, one chunk per request: `Range` in, `206` with the chunk's headers out. */
export interface ContentRoute extends RouteBase {
  readonly kind: 'content';
  readonly method: 'GET';
}

/** A tus 1.0.0 upload resource: HEAD for the offset, PATCH for the next bytes. */
export interface UploadRoute extends RouteBase {
  readonly kind: 'tus';
  readonly method: readonly ['HEAD', 'PATCH'];
}

/** A WebSocket, upgraded from a GET. */
export interface SocketRoute extends RouteBase {
  readonly kind: 'websocket';
  readonly method: 'GET';
  /** The subprotocol the client must offer, if any. */
  readonly subprotocol?: string;
}

/** One route of the contract. */
export type RouteSpec = JsonRoute | ContentRoute | UploadRoute | SocketRoute;

/** A program boundary's routes by name, under one prefix (`/api/v1`, `/agent/v1`). */
export interface RouteTable<R extends Record<string, RouteSpec> = Record<string, RouteSpec>> {
  readonly prefix: string;
  readonly routes: R;
}

/** The path parameters a route's path names, as the caller gives them. */
export type RouteParams<R extends RouteSpec> = R['params'] extends z.ZodObject ? z.input<R['params']> : Record<string, never>;

/** A route's query as the caller gives it: every field optional (the server applies defaults). */
export type RouteQuery<R extends RouteSpec> = R extends { query: z.ZodObject } ? { [K in keyof z.output<R['query']>]?: z.output<R['query']>[K] } : never;

/** A route's JSON body as the caller gives it. */
export type RouteBody<R extends RouteSpec> = R extends { body: z.ZodType } ? z.input<R['body']> : never;

/** What a JSON route answers, parsed. */
export type RouteAnswer<R extends RouteSpec> = R extends JsonRoute ? z.output<R['response']> : never;

/**
 * A route's path with its parameters filled in (each segment encoded) and the query
 * appended (empty and undefined values left out), under the table's prefix.
 */
export function routePath(prefix: string, route: RouteSpec, params: Record<string, unknown>, query?: Record<string, unknown>): string {
  const path = route.path.replace(/:([A-Za-z]+)/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined || value === null || value === '') throw new TetherError('VALIDATION_FAILED', `${route.path} needs its ${name}`);
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return `${prefix}${path}${text ? `?${text}` : ''}`;
}

/** Declares a JSON route (the literal types are kept, so clients and handlers are typed by it). */
export const jsonRoute = <const R extends Omit<JsonRoute, 'kind'>>(route: R): R & { readonly kind: 'json' } => ({ ...route, kind: 'json' });

/** Declares a file-content route (Range in, one chunk out). */
export const contentRoute = <const R extends Omit<ContentRoute, 'kind' | 'method'>>(route: R): R & { readonly kind: 'content'; readonly method: 'GET' } => ({ ...route, kind: 'content', method: 'GET' });

/** Declares a tus upload resource. */
export const uploadRoute = <const R extends Omit<UploadRoute, 'kind' | 'method'>>(route: R): R & { readonly kind: 'tus'; readonly method: readonly ['HEAD', 'PATCH'] } => ({ ...route, kind: 'tus', method: ['HEAD', 'PATCH'] });

/** Declares a WebSocket route. */
export const socketRoute = <const R extends Omit<SocketRoute, 'kind' | 'method'>>(route: R): R & { readonly kind: 'websocket'; readonly method: 'GET' } => ({ ...route, kind: 'websocket', method: 'GET' });

/** A signed-in user whose role has `capability`. */
export const userWith = <const C extends Capability>(capability: C) => ({ kind: 'user', capability }) as const;
/** No credentials. */
export const ANYONE = { kind: 'anyone' } as const;
/** An enrolled device: certificate and secret. */
export const DEVICE = { kind: 'device' } as const;
/** Admitted by the tunnel relay itself. */
export const TUNNEL_LEG = { kind: 'tunnel-leg' } as const;
