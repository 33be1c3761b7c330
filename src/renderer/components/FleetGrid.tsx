import { useVirtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, memo, useEffect, useRef } from 'react';
import { useFleet } from '../stores/context.ts';
import { RelativeTime } from './RelativeTime.tsx';
import { StatusBadge } from './StatusBadge.tsx';
import './FleetGrid.css';

/** Fixed row height: the virtualizer never measures, so 10,000 rows scroll smoothly. */
const ROW_HEIGHT = 32;
const COLUMNS = ['Serial', 'Model', 'Customer', 'Site', 'Status', 'Last contact', 'Alarms'] as const;

const rowDomId = (id: string) => `fleet-row-${id}`;

interface FleetGridProps {
  onOpen: (deviceId: string) => void;
}

/**
 * The fleet as an ARIA grid over a virtualized list: only the rows in view exist. Each row
 * subscribes to its own device, so a live update re-renders that row alone. Keyboard:
 * arrows, Page Up/Down, Home/End move the selection; Enter (or a double-click) opens it.
 */
export const FleetGrid = memo(function FleetGrid({ onOpen }: FleetGridProps) {
  const visibleIds = useFleet((s) => s.visibleIds);
  const loadedCount = useFleet((s) => (s.phase === 'ready' ? s.ids.length : null));
  const selectedId = useFleet((s) => s.selectedId);
  const select = useFleet((s) => s.select);
  const bodyRef = useRef<HTMLDivElement>(null);

  const virtualizer = useVirtualizer({
    count: visibleIds.length,
    getScrollElement: () => bodyRef.current,
    estimateSize: () => ROW_HEIGHT,
    getItemKey: (index) => visibleIds[index] ?? index,
    overscan: 10,
  });
  const rows = virtualizer.getVirtualItems();

  useFirstRowsMark(rows.length > 0 && loadedCount !== null);

  // Coming back from a device: show the row that was selected.
  useEffect(() => {
    if (!selectedId) return;
    const index = visibleIds.indexOf(selectedId);
    if (index >= 0) virtualizer.scrollToIndex(index, { align: 'center' });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only when the grid mounts, not on every selection
  }, []);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const count = visibleIds.length;
    if (count === 0) return;
    const current = selectedId ? visibleIds.indexOf(selectedId) : -1;
    const page = Math.max(1, Math.floor((bodyRef.current?.clientHeight ?? ROW_HEIGHT) / ROW_HEIGHT) - 1);
    let next: number;
    switch (event.key) {
      case 'ArrowDown':
        next = current < 0 ? 0 : current + 1;
        break;
      case 'ArrowUp':
        next = current < 0 ? 0 : current - 1;
        break;
      case 'PageDown':
        next = current < 0 ? 0 : current + page;
        break;
      case 'PageUp':
        next = current < 0 ? 0 : current - page;
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = count - 1;
        break;
      case 'Enter':
        if (current >= 0) onOpen(visibleIds[current]!);
        event.preventDefault();
        return;
      default:
        return;
    }
    event.preventDefault();
    next = Math.min(count - 1, Math.max(0, next));
    select(visibleIds[next]!);
    virtualizer.scrollToIndex(next, { align: 'auto' });
  };

  const activeRow = selectedId && visibleIds.includes(selectedId) ? rowDomId(selectedId) : undefined;

  return (
    <div
      role="grid"
      aria-label="Devices"
      aria-rowcount={visibleIds.length + 1}
      aria-colcount={COLUMNS.length}
      aria-activedescendant={activeRow}
      aria-busy={loadedCount === null}
      tabIndex={0}
      className="fleet-grid"
      onKeyDown={onKeyDown}
      {...(loadedCount !== null ? { 'data-testid': 'fleet-loaded', 'data-count': loadedCount } : {})}
    >
      <div role="rowgroup" className="fleet-grid__head">
        <div role="row" aria-rowindex={1} className="fleet-grid__row">
          {COLUMNS.map((name) => (
            <div key={name} role="columnheader" className="fleet-grid__cell">
              {name}
            </div>
          ))}
        </div>
      </div>
      <div ref={bodyRef} role="rowgroup" className="fleet-grid__body">
        <div className="fleet-grid__spacer" style={{ height: virtualizer.getTotalSize() }}>
          {rows.map((row) => {
            const id = visibleIds[row.index]!;
            return <FleetRow key={id} id={id} index={row.index} top={row.start} onOpen={onOpen} />;
          })}
        </div>
        {loadedCount !== null && visibleIds.length === 0 && <div className="fleet-grid__empty">No devices match these filters.</div>}
      </div>
    </div>
  );
});

interface FleetRowProps {
  id: string;
  index: number;
  top: number;
  onOpen: (deviceId: string) => void;
}

const FleetRow = memo(function FleetRow({ id, index, top, onOpen }: FleetRowProps) {
  const device = useFleet((s) => s.byId[id]);
  const selected = useFleet((s) => s.selectedId === id);
  const select = useFleet((s) => s.select);
  if (!device) return null;
  return (
    <div
      role="row"
      id={rowDomId(id)}
      aria-rowindex={index + 2}
      aria-selected={selected}
      className="fleet-grid__row"
      style={{ transform: `translateY(${top}px)` }}
      onClick={() => select(id)}
      onDoubleClick={() => onOpen(id)}
    >
      <div role="gridcell" className="fleet-grid__cell fleet-grid__serial" title={device.name} {...ELEMENT_TIMING}>
        {device.serial}
      </div>
      <div role="gridcell" className="fleet-grid__cell" title={device.modelName}>
        {device.modelName}
      </div>
      <div role="gridcell" className="fleet-grid__cell" title={device.customerName}>
        {device.customerName}
      </div>
      <div role="gridcell" className="fleet-grid__cell" title={device.siteName}>
        {device.siteName}
      </div>
      <div role="gridcell" className="fleet-grid__cell">
        <StatusBadge status={device.status} />
      </div>
      <div role="gridcell" className="fleet-grid__cell">
        <RelativeTime iso={device.lastContactAt} />
      </div>
      <div role="gridcell" className="fleet-grid__cell fleet-grid__alarms" data-alarms={device.openAlarms > 0 || undefined}>
        {device.openAlarms}
      </div>
    </div>
  );
});

/**
 * Element Timing on the serial cells: the browser reports when each first painted, which is
 * how a benchmark sees the first rows on screen (not just rendered by React).
 */
const ELEMENT_TIMING = { elementtiming: 'fleet-row' } as Record<string, string>;

/** Marks `fleet-first-rows` (once per page) after the first paint that shows rows; a benchmark reads it. */
function useFirstRowsMark(hasRows: boolean): void {
  useEffect(() => {
    if (!hasRows || performance.getEntriesByName('fleet-first-rows').length > 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // a rAF callback runs before the paint; a task queued from it runs after
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => {
        if (performance.getEntriesByName('fleet-first-rows').length === 0) performance.mark('fleet-first-rows');
      }, 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [hasRows]);
}
