import { NumberInput, Select, Switch, Text, TextInput } from '@mantine/core';
import type { DataItemDefinition } from '#contract/device-models';
import { type FieldValue, type FormValues, type SchemaField, valueTypeOf } from '../../lib/schema-form.ts';

interface DiagnosticFormProps {
  fields: readonly SchemaField[];
  values: FormValues;
  errors: Readonly<Record<string, string>>;
  /** The device model's data items, for data item fields and the values typed by them. */
  items: readonly DataItemDefinition[];
  onChange: (name: string, value: FieldValue) => void;
}

const itemOptions = (items: readonly DataItemDefinition[]) => items.map((i) => ({ value: i.key, label: i.unit ? `${i.label} (${i.unit})` : i.label }));

/** One generated input: a switch, a number, a choice, text, or a data item and its value. */
function FieldInput({ field, values, errors, items, onChange }: DiagnosticFormProps & { field: SchemaField }) {
  const value = values[field.name] ?? null;
  const error = errors[field.name];
  const common = { label: field.label, error, required: field.required, withAsterisk: false } as const;
  switch (field.kind) {
    case 'switch':
      return <Switch label={field.label} checked={value === true} onChange={(e) => onChange(field.name, e.currentTarget.checked)} error={error} size="sm" />;
    case 'number':
      return (
        <NumberInput
          {...common}
          value={typeof value === 'number' || typeof value === 'string' ? value : ''}
          onChange={(v) => onChange(field.name, v)}
          min={field.min}
          max={field.max}
          allowDecimal={!field.integer}
          description={field.min !== undefined && field.max !== undefined ? `${field.min}–${field.max}` : undefined}
          inputWrapperOrder={['label', 'input', 'description', 'error']}
          w={180}
        />
      );
    case 'choice':
      return <Select {...common} data={[...field.options]} value={typeof value === 'string' ? value : null} onChange={(v) => onChange(field.name, v)} w={220} />;
    case 'data-item':
      return <Select {...common} data={itemOptions(items)} value={typeof value === 'string' ? value : null} onChange={(v) => onChange(field.name, v)} searchable w={240} />;
    case 'text':
      return <TextInput {...common} value={typeof value === 'string' ? value : ''} onChange={(e) => onChange(field.name, e.currentTarget.value)} maxLength={field.maxLength} w={240} />;
    case 'data-value': {
      const type = valueTypeOf(field, values, items);
      if (type === 'boolean') return <Switch label={field.label} checked={value === true} onChange={(e) => onChange(field.name, e.currentTarget.checked)} error={error} size="sm" />;
      if (type === 'number') {
        const unit = items.find((i) => i.key === values[field.itemField ?? ''])?.unit;
        return (
          <NumberInput
            {...common}
            label={unit ? `${field.label} (${unit})` : field.label}
            value={typeof value === 'number' || typeof value === 'string' ? value : ''}
            onChange={(v) => onChange(field.name, v)}
            w={180}
          />
        );
      }
      return (
        <TextInput
          {...common}
          value={typeof value === 'string' ? value : ''}
          onChange={(e) => onChange(field.name, e.currentTarget.value)}
          disabled={type === null}
          placeholder={type === null ? 'Choose the data item first' : undefined}
          w={240}
        />
      );
    }
    case 'unsupported':
      return (
        <Text size="xs" c="red">
          {field.label}: the console cannot fill in this parameter, so this action cannot be run from here.
        </Text>
      );
  }
}

/** The parameters of a diagnostic, as inputs generated from its schema. */
export function DiagnosticForm(props: DiagnosticFormProps) {
  if (props.fields.length === 0) {
    return (
      <Text size="xs" c="dimmed">
        This action takes no parameters.
      </Text>
    );
  }
  return (
    <div className="diagnostic-form">
      {props.fields.map((field) => (
        <FieldInput key={field.name} field={field} {...props} />
      ))}
    </div>
  );
}
