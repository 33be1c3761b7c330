import { Button, Group, Select, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import type { DeviceDetail } from '../../../shared/api/fleet.ts';
import { DEVICE_MODELS } from '../../../shared/device-models.ts';
import { notifyError, notifySuccess } from '../../lib/notify.ts';
import { type SimFault, faultLabel, faultOptionsFor, isSimFault } from '../../lib/sim-faults.ts';
import { useBridge } from '../../stores/context.ts';

/** Training controls of the offline simulator: make this device misbehave, and stop it again. */
export function SimulatorTab({ detail }: { detail: DeviceDetail }) {
  const bridge = useBridge();
  const options = faultOptionsFor(DEVICE_MODELS[detail.modelId].kind);
  const [fault, setFault] = useState<SimFault | null>(options[0]?.value ?? null);
  const [busy, setBusy] = useState<'inject' | 'clear' | null>(null);

  const inject = async () => {
    if (!fault) return;
    setBusy('inject');
    try {
      await bridge.invoke('simulator.injectFault', { serial: detail.serial, fault });
      notifySuccess(`${faultLabel(fault)} injected`, `${detail.serial} now behaves as if it had this fault; watch its alarms and events.`);
    } catch (err) {
      notifyError(`${faultLabel(fault)} was not injected`, err);
    } finally {
      setBusy(null);
    }
  };

  const clear = async () => {
    setBusy('clear');
    try {
      await bridge.invoke('simulator.clearFaults', { serial: detail.serial });
      notifySuccess('Faults cleared', `${detail.serial} recovers over the next few readings.`);
    } catch (err) {
      notifyError('The faults were not cleared', err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <Stack gap="sm" maw={560}>
      <Text size="xs" c="dimmed">
        This device runs in the offline simulator. Inject a fault to practise diagnosis: it shows up in the data, alarms and events as it would on real equipment.
      </Text>
      <Group gap="xs" align="flex-end">
        <Select label="Fault" data={options} value={fault} onChange={(v) => setFault(isSimFault(v) ? v : null)} w={220} />
        <Button onClick={() => void inject()} loading={busy === 'inject'} disabled={!fault || busy !== null}>
          Inject fault
        </Button>
        <Button variant="default" onClick={() => void clear()} loading={busy === 'clear'} disabled={busy !== null}>
          Clear faults
        </Button>
      </Group>
    </Stack>
  );
}
