import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ErrorBodySchema, HTTP_STATUS_BY_CODE, TetherError, parseErrorBody } from '#contract/errors';

describe('errors', () => {
  it('gives every error code an HTTP status in the 4xx or 5xx range', () => {
    for (const code of ERROR_CODES) {
      const status = HTTP_STATUS_BY_CODE[code];
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
      expect(new TetherError(code, 'x').httpStatus).toBe(status);
    }
    expect(Object.keys(HTTP_STATUS_BY_CODE).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('answers client faults with 4xx and server faults with 5xx', () => {
    expect(new TetherError('VALIDATION_FAILED', 'x').httpStatus).toBe(400);
    expect(new TetherError('NOT_FOUND', 'x').httpStatus).toBe(404);
    expect(new TetherError('UNAUTHENTICATED', 'x').httpStatus).toBe(401);
    expect(new TetherError('FORBIDDEN', 'x').httpStatus).toBe(403);
    expect(new TetherError('INTERNAL', 'x').httpStatus).toBe(500);
  });

  it('turns a TetherError into a body that validates against ErrorBodySchema, with details only when given', () => {
    const plain = new TetherError('NOT_FOUND', 'no such device');
    expect(plain.toBody()).toEqual({ error: { code: 'NOT_FOUND', message: 'no such device' } });
    expect(ErrorBodySchema.safeParse(plain.toBody()).success).toBe(true);
    expect('details' in plain.toBody().error).toBe(false);

    const detailed = new TetherError('VALIDATION_FAILED', 'bad input', { field: 'port' });
    expect(detailed.toBody()).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'bad input', details: { field: 'port' } } });
    expect(ErrorBodySchema.safeParse(detailed.toBody()).success).toBe(true);
  });

  it('is a real Error carrying its code and name', () => {
    const err = new TetherError('CONFLICT', 'taken');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('TetherError');
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toBe('taken');
  });

  it('parses every code body a peer may send back into an ErrorBody', () => {
    for (const code of ERROR_CODES) {
      const body = new TetherError(code, `m ${code}`, { n: 1 }).toBody();
      expect(parseErrorBody(JSON.parse(JSON.stringify(body)))).toEqual(body);
    }
  });

  it('rejects anything that is not an error body', () => {
    const notBodies: unknown[] = [
      undefined,
      null,
      'error',
      42,
      [],
      {},
      { error: 'NOT_FOUND' },
      { error: { code: 'NOT_FOUND' } },
      { error: { message: 'missing code' } },
      { error: { code: 'NO_SUCH_CODE', message: 'x' } },
      { error: { code: 'NOT_FOUND', message: 7 } },
      { error: { code: 'NOT_FOUND', message: 'x', details: 'not a record' } },
    ];
    for (const value of notBodies) expect(parseErrorBody(value), JSON.stringify(value)).toBeUndefined();
  });
});
