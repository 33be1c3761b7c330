import { z } from 'zod';
import { DataItemKeySchema } from '../../common.ts';

/** A record id in a path: what every `/…/:xId` segment accepts. */
const Id = z.string().min(1).max(64);

/** Path parameters of the console API, named for the record they point at. */
export const DeviceParams = z.object({ deviceId: Id });
export const DataItemParams = z.object({ deviceId: z.string().max(64), key: DataItemKeySchema });
export const CustomerParams = z.object({ customerId: Id });
export const AlarmParams = z.object({ alarmId: Id });
export const CommandParams = z.object({ commandId: Id });
export const SessionParams = z.object({ sessionId: Id });
export const TransferParams = z.object({ transferId: Id });
export const TunnelParams = z.object({ tunnelId: Id });

/** A list answer: `{ items: [...] }`. */
export const itemsOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });
