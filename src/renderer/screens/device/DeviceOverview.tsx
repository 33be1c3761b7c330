import type { ReactNode } from 'react';
import type { DeviceDetail } from '#contract/api/fleet';
import { RelativeTime } from '../../components/RelativeTime.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { formatDateTime } from '../../lib/time-format.ts';

/** The device's identity and state at a glance, as a dense description list. */
export function DeviceOverview({ detail }: { detail: DeviceDetail }) {
  const fields: [string, ReactNode][] = [
    ['Model', detail.modelName],
    ['Serial', <span className="mono">{detail.serial}</span>],
    ['Software version', detail.softwareVersion ?? '—'],
    ['Agent version', detail.agentVersion ?? '—'],
    ['Customer', detail.customerName],
    ['Site', detail.siteName],
    ['Status', <StatusBadge status={detail.status} />],
    ['Last contact', <RelativeTime iso={detail.lastContactAt} />],
    ['Enrolled at', formatDateTime(detail.enrolledAt)],
  ];
  return (
    <section aria-label="Overview" className="overview">
      <dl className="overview__list">
        {fields.map(([label, value]) => (
          <div key={label} className="overview__item" data-wide={label === 'Model' || undefined}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
