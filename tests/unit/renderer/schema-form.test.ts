import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEVICE_MODELS } from '#contract/device-models';
import { DIAGNOSTIC_CATALOG, type DiagnosticName } from '#contract/protocol/diagnostics';
import { initialValues, parseParams, schemaFields, valueTypeOf, withValue } from '../../../src/renderer/lib/schema-form.ts';

/** The parameter schema exactly as the server sends it (GET /devices/:id/diagnostics). */
const wireSchema = (name: DiagnosticName) => JSON.parse(JSON.stringify(z.toJSONSchema(DIAGNOSTIC_CATALOG[name].params, { io: 'input' }))) as unknown;
const fieldsOf = (name: DiagnosticName) => schemaFields(wireSchema(name));
const injectorItems = DEVICE_MODELS['stellant-flex'].dataItems;

describe('schemaFields', () => {
  it('turns a boolean into a switch labelled by its description, starting at its default', () => {
    const fields = fieldsOf('self-test');
    expect(fields).toEqual([{ kind: 'switch', name: 'extended', label: 'Also test the drive mechanics (takes longer)', required: false, defaultValue: false }]);
    expect(initialValues(fields)).toEqual({ extended: false });
  });

  it('turns a bounded integer into a whole-number input with its limits and default', () => {
    const [hours, includeSystem] = fieldsOf('collect-log-bundle');
    expect(hours).toEqual({ kind: 'number', name: 'hours', label: 'Hours of logs', required: false, integer: true, min: 1, max: 168, defaultValue: 24 });
    expect(includeSystem).toMatchObject({ kind: 'switch', label: 'Include operating-system logs' });
  });

  it('turns a string enum into a choice; without a default it starts empty and is required', () => {
    expect(fieldsOf('plunger-calibration-check')).toEqual([{ kind: 'choice', name: 'syringe', label: 'Syringe', required: false, options: ['A', 'B'], defaultValue: 'A' }]);
    const [service] = fieldsOf('restart-service');
    expect(service).toMatchObject({ kind: 'choice', required: true, options: ['dicomListener', 'hl7Interface', 'database', 'web'] });
    expect(initialValues(fieldsOf('restart-service'))).toEqual({ service: null });
  });

  it('recognises a data item key and ties the value union to it', () => {
    expect(fieldsOf('set-data-item')).toEqual([
      { kind: 'data-item', name: 'key', label: 'Data item', required: true },
      { kind: 'data-value', name: 'value', label: 'New value', required: true, itemField: 'key', types: ['number', 'string', 'boolean'] },
    ]);
  });

  it('gives no fields for an action without parameters, and for anything that is not an object schema', () => {
    expect(fieldsOf('read-configuration')).toEqual([]);
    expect(schemaFields(null)).toEqual([]);
    expect(schemaFields({ type: 'string' })).toEqual([]);
  });

  it('marks a parameter it cannot edit (an array) as unsupported, and never lets it pass', () => {
    const fields = schemaFields({ type: 'object', properties: { keys: { type: 'array', items: { type: 'string' } } } });
    expect(fields).toEqual([{ kind: 'unsupported', name: 'keys', label: 'Keys', required: false }]);
    expect(parseParams(fields, {}, [])).toEqual({ ok: false, errors: { keys: 'The console cannot fill in this parameter.' } });
  });
});

describe('parseParams', () => {
  it('sends the defaults as they are', () => {
    const fields = fieldsOf('collect-log-bundle');
    expect(parseParams(fields, initialValues(fields), [])).toEqual({ ok: true, params: { hours: 24, includeSystem: false } });
  });

  it('reads a number typed as text and checks it against the limits, whole numbers only', () => {
    const fields = fieldsOf('collect-log-bundle');
    expect(parseParams(fields, { hours: '168', includeSystem: true }, [])).toEqual({ ok: true, params: { hours: 168, includeSystem: true } });
    expect(parseParams(fields, { hours: 169, includeSystem: false }, [])).toEqual({ ok: false, errors: { hours: 'At most 168.' } });
    expect(parseParams(fields, { hours: 0, includeSystem: false }, [])).toEqual({ ok: false, errors: { hours: 'At least 1.' } });
    expect(parseParams(fields, { hours: 2.5, includeSystem: false }, [])).toEqual({ ok: false, errors: { hours: 'Enter a whole number.' } });
    expect(parseParams(fields, { hours: '-', includeSystem: false }, [])).toEqual({ ok: false, errors: { hours: 'Enter a number.' } });
  });

  it('leaves out an empty optional number so the device applies its default', () => {
    expect(parseParams(fieldsOf('pressure-transducer-check'), { targetPsi: '' }, [])).toEqual({ ok: true, params: {} });
  });

  it('asks for a required choice and refuses one that is not offered', () => {
    const fields = fieldsOf('restart-service');
    expect(parseParams(fields, { service: null }, [])).toEqual({ ok: false, errors: { service: 'Choose one.' } });
    expect(parseParams(fields, { service: 'kernel' }, [])).toEqual({ ok: false, errors: { service: 'Choose one of the options.' } });
    expect(parseParams(fields, { service: 'web' }, [])).toEqual({ ok: true, params: { service: 'web' } });
  });

  it('types the new value by the data item chosen: a number for a pressure limit, text for a state', () => {
    const fields = fieldsOf('set-data-item');
    const valueField = fields[1]!;
    if (valueField.kind !== 'data-value') throw new Error('expected the value field');
    expect(valueTypeOf(valueField, { key: null, value: null }, injectorItems)).toBeNull();
    expect(valueTypeOf(valueField, { key: 'pressure.limit', value: null }, injectorItems)).toBe('number');
    expect(parseParams(fields, { key: 'pressure.limit', value: '325' }, injectorItems)).toEqual({ ok: true, params: { key: 'pressure.limit', value: 325 } });
    expect(parseParams(fields, { key: 'pressure.limit', value: 'high' }, injectorItems)).toEqual({ ok: false, errors: { value: 'Enter a number.' } });
    expect(parseParams(fields, { key: 'state', value: '325' }, injectorItems)).toEqual({ ok: true, params: { key: 'state', value: '325' } });
  });

  it('refuses a data item the model does not have, and asks for the item before its value', () => {
    const fields = fieldsOf('set-data-item');
    expect(parseParams(fields, { key: 'cpu', value: 3 }, injectorItems)).toEqual({ ok: false, errors: { key: 'Choose a data item of this device.', value: 'Choose the data item first.' } });
    expect(parseParams(fields, { key: null, value: null }, injectorItems)).toEqual({ ok: false, errors: { key: 'Choose one.', value: 'Choose the data item first.' } });
  });

  it('reads a value not tied to an item as a number or yes/no where the schema allows', () => {
    const fields = schemaFields({ type: 'object', properties: { v: { anyOf: [{ type: 'number' }, { type: 'boolean' }, { type: 'string' }] } }, required: ['v'] });
    expect(parseParams(fields, { v: '42' }, [])).toEqual({ ok: true, params: { v: 42 } });
    expect(parseParams(fields, { v: 'TRUE' }, [])).toEqual({ ok: true, params: { v: true } });
    expect(parseParams(fields, { v: 'fault' }, [])).toEqual({ ok: true, params: { v: 'fault' } });
  });

  it('checks text against its length and pattern', () => {
    const fields = schemaFields({ type: 'object', properties: { code: { type: 'string', minLength: 2, maxLength: 4, pattern: '^[A-Z]+$' } } });
    expect(parseParams(fields, { code: 'A' }, [])).toEqual({ ok: false, errors: { code: 'At least 2 characters.' } });
    expect(parseParams(fields, { code: 'ABCDE' }, [])).toEqual({ ok: false, errors: { code: 'At most 4 characters.' } });
    expect(parseParams(fields, { code: 'ab' }, [])).toEqual({ ok: false, errors: { code: 'Not in the expected form.' } });
    expect(parseParams(fields, { code: 'AB' }, [])).toEqual({ ok: true, params: { code: 'AB' } });
  });

  it('gives params the contract accepts for every action of every model, from the defaults', () => {
    for (const name of Object.keys(DIAGNOSTIC_CATALOG) as DiagnosticName[]) {
      const fields = fieldsOf(name);
      const parsed = parseParams(fields, initialValues(fields), []);
      if (parsed.ok) expect(DIAGNOSTIC_CATALOG[name].params.safeParse(parsed.params).success, name).toBe(true);
      else expect(fields.some((f) => f.required), `${name} failed without a required field`).toBe(true);
    }
  });
});

describe('withValue', () => {
  it('empties the value typed for the previous data item when another is chosen', () => {
    const fields = fieldsOf('set-data-item');
    const chosen = withValue(fields, { key: null, value: null }, 'key', 'pressure.limit', injectorItems);
    const typed = withValue(fields, chosen, 'value', 300, injectorItems);
    expect(typed).toEqual({ key: 'pressure.limit', value: 300 });
    expect(withValue(fields, typed, 'key', 'state', injectorItems)).toEqual({ key: 'state', value: null });
    // choosing the same item again keeps what was typed
    expect(withValue(fields, typed, 'key', 'pressure.limit', injectorItems)).toEqual(typed);
  });

  it('starts a yes/no value at "no" when a boolean item is chosen', () => {
    const items = [{ key: 'door.open', label: 'Door open', type: 'boolean' as const }];
    expect(withValue(fieldsOf('set-data-item'), { key: null, value: null }, 'key', 'door.open', items)).toEqual({ key: 'door.open', value: false });
  });
});
