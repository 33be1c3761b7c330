import { Alert, Group, Loader, Paper, Select, Table, Text } from '@mantine/core';
import { type KeyboardEvent, useEffect, useMemo } from 'react';
import type { DeviceDetail } from '#contract/api/fleet';
import { type DataItemDefinition, DEVICE_MODELS } from '#contract/device-models';
import { DataChart } from '../../components/DataChart.tsx';
import { RelativeTime } from '../../components/RelativeTime.tsx';
import { formatDataValue } from '../../lib/format.ts';
import { useDevice } from '../../stores/context.ts';

/** The model's catalog, plus any item the device reports that the catalog does not name. */
function itemDefinitions(detail: DeviceDetail, reportedKeys: readonly string[]): DataItemDefinition[] {
  const catalog = DEVICE_MODELS[detail.modelId].dataItems;
  const known = new Set(catalog.map((d) => d.key));
  const extra = reportedKeys.filter((k) => !known.has(k)).map((key): DataItemDefinition => ({ key, label: key, type: 'string' }));
  return [...catalog, ...extra];
}

/** Current data item values, updating live; a numeric item can be charted with its history. */
export function DataTab({ detail }: { detail: DeviceDetail }) {
  const dataItems = useDevice((s) => s.dataItems);
  const chart = useDevice((s) => s.chart);
  const showChart = useDevice((s) => s.showChart);
  const reportedKeys = useMemo(() => Object.keys(dataItems).sort(), [dataItems]);
  const definitions = useMemo(() => itemDefinitions(detail, reportedKeys), [detail, reportedKeys]);
  const numeric = definitions.filter((d) => d.type === 'number');
  const charted = chart ? definitions.find((d) => d.key === chart.key) : undefined;
  const firstNumeric = numeric[0]?.key;

  // open with a chart already showing: the first numeric item of the model
  useEffect(() => {
    if (!chart && firstNumeric) void showChart(firstNumeric);
    // only when the device (and so its first item) changes, not when the user picks another
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [detail.id, firstNumeric]);

  const chooseOnKey = (key: string) => (event: KeyboardEvent) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    event.preventDefault();
    void showChart(key);
  };

  return (
    <div className="data-tab">
      <Table className="data-tab__table" aria-label="Data items">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Item</Table.Th>
            <Table.Th ta="right">Value</Table.Th>
            <Table.Th>Unit</Table.Th>
            <Table.Th>Updated</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {definitions.map((d) => {
            const item = dataItems[d.key];
            const chartable = d.type === 'number';
            return (
              <Table.Tr
                key={d.key}
                className={chartable ? 'data-tab__row--chartable' : undefined}
                data-selected={chartable && chart?.key === d.key ? true : undefined}
                tabIndex={chartable ? 0 : undefined}
                onClick={chartable ? () => void showChart(d.key) : undefined}
                onKeyDown={chartable ? chooseOnKey(d.key) : undefined}
              >
                <Table.Td>{d.label}</Table.Td>
                <Table.Td ta="right" className="num" data-testid={`value-${d.key}`}>
                  {formatDataValue(item?.value)}
                </Table.Td>
                <Table.Td c="dimmed">{d.unit ?? ''}</Table.Td>
                <Table.Td c="dimmed">{item ? <RelativeTime iso={item.at} /> : '—'}</Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      <Paper withBorder p="sm" className="data-tab__chart">
        <Group justify="space-between" mb="xs" wrap="nowrap">
          <Select
            label="Chart"
            placeholder="Choose a numeric item"
            data={numeric.map((d) => ({ value: d.key, label: d.label }))}
            value={chart?.key ?? null}
            onChange={(key) => void showChart(key)}
            clearable
            allowDeselect
            w={240}
          />
          {chart?.loading && <Loader size="xs" aria-label="Loading history" />}
        </Group>
        {chart?.error && (
          <Alert color="red" title="The history could not be loaded">
            {chart.error}
          </Alert>
        )}
        {chart && charted ? (
          <DataChart label={charted.label} unit={charted.unit} points={chart.points} />
        ) : (
          <Text size="xs" c="dimmed" className="data-tab__hint">
            Select a numeric item (or click its row) to chart its recent history; new values are added as they arrive.
          </Text>
        )}
      </Paper>
    </div>
  );
}
