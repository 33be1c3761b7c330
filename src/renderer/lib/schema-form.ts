import { z } from 'zod';
import { DataItemKeySchema } from '#contract/common';
import type { DataItemDefinition, DataItemType } from '#contract/device-models';
import { humanizeKey } from './format.ts';

/**
 * A diagnostic's parameter form, generated from the JSON Schema the server sends (zod's
 * `toJSONSchema` of the catalog's parameters): which fields to show, their starting values,
 * and turning what was typed into checked parameters. Pure, so the console can offer any
 * action the server adds without a form written for it.
 */

/** The scalar types a data item (and so a data item's new value) can have. */
export type ScalarType = DataItemType;

interface FieldBase {
  /** The parameter's name in `params`. */
  name: string;
  /** From the schema's `description`; the name in words otherwise. */
  label: string;
  required: boolean;
}

/** One generated field; `kind` picks the input. */
export type SchemaField =
  | (FieldBase & { kind: 'switch'; defaultValue: boolean })
  | (FieldBase & { kind: 'number'; integer: boolean; min: number | undefined; max: number | undefined; defaultValue: number | undefined })
  | (FieldBase & { kind: 'choice'; options: readonly string[]; defaultValue: string | undefined })
  | (FieldBase & { kind: 'text'; minLength: number | undefined; maxLength: number | undefined; pattern: string | undefined; defaultValue: string | undefined })
  /** A data item key of the device's model, chosen from its catalog. */
  | (FieldBase & { kind: 'data-item' })
  /** A value of one of several scalar types; typed by the data item chosen in `itemField` when there is one. */
  | (FieldBase & { kind: 'data-value'; itemField: string | null; types: readonly ScalarType[] })
  /** A parameter the form cannot edit (object, array…): the action cannot be run from here. */
  | (FieldBase & { kind: 'unsupported' });

/** What an input holds: Mantine's NumberInput gives a string while a number is being typed. */
export type FieldValue = string | number | boolean | null;
export type FormValues = Readonly<Record<string, FieldValue>>;

/** Params ready for `commands.send`, or a message per field that is wrong. */
export type ParsedParams = { ok: true; params: Record<string, unknown> } | { ok: false; errors: Record<string, string> };

type JsonSchema = Record<string, unknown>;

const isObject = (value: unknown): value is JsonSchema => typeof value === 'object' && value !== null && !Array.isArray(value);
const numberOr = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const stringOr = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

let dataItemKeyPattern: string | undefined;
/** The pattern of a data item key as the contract writes it, to recognise such a parameter. */
function dataItemKeyPatternOf(): string | undefined {
  dataItemKeyPattern ??= stringOr((z.toJSONSchema(DataItemKeySchema) as JsonSchema).pattern) ?? '';
  return dataItemKeyPattern || undefined;
}

/** The scalar types a property allows: its `type`, or those of an `anyOf` of scalars (null left out). */
function scalarTypes(property: JsonSchema): ScalarType[] | null {
  const branches = Array.isArray(property.anyOf) ? property.anyOf : [property];
  const types = new Set<ScalarType>();
  for (const branch of branches) {
    if (!isObject(branch)) return null;
    const type = branch.type;
    if (type === 'null') continue;
    if (type === 'integer' || type === 'number') types.add('number');
    else if (type === 'string' || type === 'boolean') types.add(type);
    else return null;
  }
  return types.size ? [...types] : null;
}

function fieldOf(name: string, property: JsonSchema, required: boolean, itemField: string | null): SchemaField {
  const base = { name, label: stringOr(property.description) ?? humanizeKey(name), required };
  const types = scalarTypes(property);
  if (!types) return { ...base, kind: 'unsupported' };
  if (types.length > 1) return { ...base, kind: 'data-value', itemField, types };
  const options = Array.isArray(property.enum) ? property.enum : undefined;
  if (options) {
    return options.every((o): o is string => typeof o === 'string')
      ? { ...base, kind: 'choice', options, defaultValue: stringOr(property.default) }
      : { ...base, kind: 'unsupported' };
  }
  switch (types[0]) {
    case 'boolean':
      return { ...base, kind: 'switch', defaultValue: property.default === true };
    case 'number':
      return {
        ...base,
        kind: 'number',
        integer: property.type === 'integer',
        min: numberOr(property.minimum),
        max: numberOr(property.maximum),
        defaultValue: numberOr(property.default),
      };
    default: {
      const pattern = stringOr(property.pattern);
      if (pattern !== undefined && pattern === dataItemKeyPatternOf()) return { ...base, kind: 'data-item' };
      return { ...base, kind: 'text', minLength: numberOr(property.minLength), maxLength: numberOr(property.maxLength), pattern, defaultValue: stringOr(property.default) };
    }
  }
}

/**
 * The fields of an object schema, in the schema's order. A value of several scalar types
 * next to a data item key is that item's value (as in "set a data item": key, value).
 */
export function schemaFields(schema: unknown): SchemaField[] {
  if (!isObject(schema) || !isObject(schema.properties)) return [];
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);
  const properties = Object.entries(schema.properties).filter((entry): entry is [string, JsonSchema] => isObject(entry[1]));
  const itemField = properties.find(([name, p]) => fieldOf(name, p, false, null).kind === 'data-item')?.[0] ?? null;
  return properties.map(([name, property]) => fieldOf(name, property, required.has(name), itemField));
}

/** The empty value of an input of this type. */
const emptyOf = (type: ScalarType | null): FieldValue => (type === 'boolean' ? false : null);

/** The values a form starts with: the schema's defaults, else empty. */
export function initialValues(fields: readonly SchemaField[]): FormValues {
  const values: Record<string, FieldValue> = {};
  for (const field of fields) {
    switch (field.kind) {
      case 'switch':
        values[field.name] = field.defaultValue;
        break;
      case 'number':
      case 'choice':
      case 'text':
        values[field.name] = field.defaultValue ?? null;
        break;
      default:
        values[field.name] = null;
    }
  }
  return values;
}

/**
 * The type the input of a value field takes now: the chosen data item's type (null while
 * none is chosen), or, for a value not tied to an item, text read by `parseParams`.
 */
export function valueTypeOf(field: SchemaField & { kind: 'data-value' }, values: FormValues, items: readonly DataItemDefinition[]): ScalarType | null {
  if (field.itemField === null) return 'string';
  const key = values[field.itemField];
  const item = items.find((i) => i.key === key);
  return item && field.types.includes(item.type) ? item.type : null;
}

/** The values with one changed; choosing another data item empties the value typed for the last one. */
export function withValue(fields: readonly SchemaField[], values: FormValues, name: string, value: FieldValue, items: readonly DataItemDefinition[]): FormValues {
  const next: Record<string, FieldValue> = { ...values, [name]: value };
  for (const field of fields) {
    if (field.kind === 'data-value' && field.itemField === name && values[name] !== value) next[field.name] = emptyOf(valueTypeOf(field, next, items));
  }
  return next;
}

/** A number from a NumberInput's value: undefined when empty, NaN when not a number. */
function numberFrom(value: FieldValue): number | undefined {
  if (value === null || value === '') return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return Number.NaN;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : Number(trimmed);
}

/** A number within the field's rules, or the message saying why not. */
function checkNumber(n: number, rules: { integer: boolean; min: number | undefined; max: number | undefined }): string | null {
  if (!Number.isFinite(n)) return 'Enter a number.';
  if (rules.integer && !Number.isInteger(n)) return 'Enter a whole number.';
  if (rules.min !== undefined && n < rules.min) return `At least ${rules.min}.`;
  if (rules.max !== undefined && n > rules.max) return `At most ${rules.max}.`;
  return null;
}

/** A value not tied to a data item, read from text: a number or yes/no where the schema allows it. */
function looseValue(text: string, types: readonly ScalarType[]): string | number | boolean {
  const trimmed = text.trim();
  if (types.includes('boolean') && /^(true|false)$/i.test(trimmed)) return trimmed.toLowerCase() === 'true';
  if (types.includes('number') && trimmed !== '' && Number.isFinite(Number(trimmed))) return Number(trimmed);
  return text;
}

/**
 * Checks the values against the fields and builds the params: numbers as numbers, empty
 * optional fields left out (the device applies its defaults). Errors are sentences for
 * the field they belong to.
 */
export function parseParams(fields: readonly SchemaField[], values: FormValues, items: readonly DataItemDefinition[]): ParsedParams {
  const params: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  const missing = (field: SchemaField) => {
    if (field.required) errors[field.name] = field.kind === 'choice' || field.kind === 'data-item' ? 'Choose one.' : 'Enter a value.';
  };
  for (const field of fields) {
    const value = values[field.name] ?? null;
    switch (field.kind) {
      case 'switch':
        params[field.name] = value === true;
        break;
      case 'number': {
        const n = numberFrom(value);
        if (n === undefined) missing(field);
        else {
          const problem = checkNumber(n, field);
          if (problem) errors[field.name] = problem;
          else params[field.name] = n;
        }
        break;
      }
      case 'choice':
        if (value === null || value === '') missing(field);
        else if (typeof value !== 'string' || !field.options.includes(value)) errors[field.name] = 'Choose one of the options.';
        else params[field.name] = value;
        break;
      case 'data-item':
        if (value === null || value === '') missing(field);
        else if (!items.some((i) => i.key === value)) errors[field.name] = 'Choose a data item of this device.';
        else params[field.name] = value;
        break;
      case 'text': {
        const text = typeof value === 'string' ? value : '';
        if (text === '') missing(field);
        else if (field.minLength !== undefined && text.length < field.minLength) errors[field.name] = `At least ${field.minLength} characters.`;
        else if (field.maxLength !== undefined && text.length > field.maxLength) errors[field.name] = `At most ${field.maxLength} characters.`;
        else if (field.pattern !== undefined && !new RegExp(field.pattern, 'u').test(text)) errors[field.name] = 'Not in the expected form.';
        else params[field.name] = text;
        break;
      }
      case 'data-value': {
        const type = valueTypeOf(field, values, items);
        if (type === null) {
          if (field.required) errors[field.name] = 'Choose the data item first.';
        } else if (type === 'boolean') {
          params[field.name] = value === true;
        } else if (type === 'number') {
          const n = numberFrom(value);
          if (n === undefined) missing(field);
          else if (!Number.isFinite(n)) errors[field.name] = 'Enter a number.';
          else params[field.name] = n;
        } else {
          const text = typeof value === 'string' ? value : '';
          if (text === '') missing(field);
          else params[field.name] = field.itemField === null ? looseValue(text, field.types) : text;
        }
        break;
      }
      case 'unsupported':
        errors[field.name] = 'The console cannot fill in this parameter.';
        break;
    }
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, params };
}
