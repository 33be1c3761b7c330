import { useComputedColorScheme } from '@mantine/core';
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useNow } from '../lib/clock.ts';
import { formatAxisTime } from '../lib/time-format.ts';
import type { ChartPoint } from '../stores/device-reducers.ts';

const HEIGHT = 220;

interface DataChartProps {
  /** The data item's label; the chart is announced as "Chart of <label>". */
  label: string;
  unit: string | undefined;
  points: readonly ChartPoint[];
}

const PALETTE = {
  light: { line: '#1c7ed6', fill: 'rgba(28, 126, 214, 0.08)', axis: '#495057', grid: 'rgba(0, 0, 0, 0.07)' },
  dark: { line: '#4dabf7', fill: 'rgba(77, 171, 247, 0.10)', axis: '#c1c2c5', grid: 'rgba(255, 255, 255, 0.08)' },
} as const;

/**
 * uPlot's columns (x in seconds, then y). Devices report a value when it changes, so the
 * last value still holds now: the line is carried on to the present.
 */
function toColumns(points: readonly ChartPoint[], nowMs: number): uPlot.AlignedData {
  const last = points.at(-1);
  const series = last && nowMs > last.at ? [...points, { at: nowMs, value: last.value }] : points;
  return [series.map((p) => p.at / 1000), series.map((p) => p.value)];
}

/**
 * A stepped line chart of one numeric data item (uPlot on a canvas). It is created once
 * per item and color scheme, follows its container's width, and takes new points
 * without re-creating itself.
 */
export function DataChart({ label, unit, points }: DataChartProps) {
  const containerRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  const now = useNow();
  const columns = useMemo(() => toColumns(points, now), [points, now]);
  const columnsRef = useRef(columns);
  const scheme = useComputedColorScheme('light');

  useEffect(() => {
    columnsRef.current = columns;
    plotRef.current?.setData(columns);
  }, [columns]);

  useEffect(() => {
    const container = containerRef.current;
    if (!container) return;
    const colors = PALETTE[scheme];
    const axis: uPlot.Axis = { stroke: colors.axis, grid: { stroke: colors.grid, width: 1 }, ticks: { stroke: colors.grid, width: 1 }, font: '11px system-ui, sans-serif' };
    const plot = new uPlot(
      {
        width: Math.max(200, container.clientWidth),
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        series: [{}, { label, stroke: colors.line, fill: colors.fill, width: 1.5, points: { show: false }, paths: uPlot.paths.stepped?.({ align: 1 }) }],
        axes: [
          { ...axis, values: (u, ticks) => ticks.map((t) => formatAxisTime(t * 1000, ((u.scales.x?.max ?? 0) - (u.scales.x?.min ?? 0)) * 1000)) },
          { ...axis, size: 64, values: (_u, ticks) => ticks.map((t) => `${Math.round(t * 100) / 100}${unit ? ` ${unit}` : ''}`) },
        ],
      },
      columnsRef.current,
      container,
    );
    plotRef.current = plot;
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, container.clientWidth), height: HEIGHT }));
    resize.observe(container);
    return () => {
      resize.disconnect();
      plot.destroy();
      plotRef.current = null;
    };
  }, [label, unit, scheme]);

  return <div ref={containerRef} role="img" aria-label={`Chart of ${label}`} className="data-chart" />;
}
