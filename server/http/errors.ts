import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { type ErrorCode, TetherError } from '#contract/errors';

const CODE_BY_FASTIFY_CODE: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_JSON',
};

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

/** Turns a validation failure into one readable sentence naming each bad field. */
function describeValidation(error: FastifyError): string {
  const where = error.validationContext ?? 'request';
  const issues = (error.validation ?? []).slice(0, 5).map((v) => {
    const path = (v.instancePath || '').replace(/^\//, '').replace(/\//g, '.');
    return path ? `${path}: ${v.message ?? 'invalid'}` : (v.message ?? 'invalid');
  });
  return `invalid ${where}${issues.length ? ` — ${issues.join('; ')}` : ''}`;
}

/**
 * Every error leaves the server as `{ error: { code, message } }`. Client mistakes get
 * their 4xx; anything else is a 500 INTERNAL that is logged with its stack and never
 * explained to the caller beyond a request id.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | TetherError, request: FastifyRequest, reply: FastifyReply) => {
    // A stream that failed before its first byte (a chunk whose sender stopped) left its headers
    // on the raw response, where Fastify put them to send it: type, length and range of bytes that
    // never came. Kept, they would turn this error's JSON into a second, opaque failure.
    if (!reply.raw.headersSent) {
      for (const name of reply.raw.getHeaderNames()) {
        reply.raw.removeHeader(name);
        reply.removeHeader(name);
      }
    }
    if (error instanceof TetherError) {
      return reply.status(error.httpStatus).send(error.toBody());
    }
    if (hasZodFastifySchemaValidationErrors(error) || error.validation) {
      return reply.status(400).send(new TetherError('VALIDATION_FAILED', describeValidation(error)).toBody());
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = CODE_BY_FASTIFY_CODE[error.code] ?? (error instanceof SyntaxError ? 'MALFORMED_JSON' : CODE_BY_STATUS[status]) ?? 'VALIDATION_FAILED';
      return reply.status(status).send(new TetherError(code, error.message).toBody());
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .status(500)
      .send(new TetherError('INTERNAL', `internal server error (request ${request.id}); it has been logged`).toBody());
  });

  app.setNotFoundHandler((request, reply) => {
    return reply.status(404).send(new TetherError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`).toBody());
  });
}

/** The caller's address as the audit log records it. */
export function clientIp(request: FastifyRequest): string | null {
  return request.ip || null;
}
