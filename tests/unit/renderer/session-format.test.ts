import { describe, expect, it } from 'vitest';
import { timelineDetail } from '../../../src/renderer/lib/session-format.ts';
import { formatDateTime } from '../../../src/renderer/lib/time-format.ts';

describe('timelineDetail', () => {
  it('shows the UTC instants the server wrote in local time, and leaves the rest alone', () => {
    const iso = '2026-11-27T10:28:07.000Z';
    expect(timelineDetail(`approved by Pat; until ${iso}`)).toBe(`approved by Pat; until ${formatDateTime(iso)}`);
    expect(timelineDetail('30 more minutes (allowed by policy); until 2026-11-27T10:28:07Z')).not.toContain('T10:28');
    expect(timelineDetail('CUSTOMER_REVOKED: revoked at the device')).toBe('CUSTOMER_REVOKED: revoked at the device');
    expect(timelineDetail(null)).toBe('');
  });
});
