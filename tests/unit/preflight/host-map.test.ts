import { describe, expect, it } from 'vitest';
import { describeHostMapEntry, lookUpMapping, parseHostMap, parseHostMapEntry } from '../../../src/main/services/preflight/host-map.ts';

describe('host-name mapping', () => {
  it('reads name=address, name:port=address:port and bracketed IPv6', () => {
    expect(parseHostMapEntry('Medrad.Axeda.com=127.0.0.1')).toEqual({ name: 'medrad.axeda.com', port: null, address: '127.0.0.1', addressPort: null });
    expect(parseHostMapEntry(' medrad.axeda.com:17001 = 127.0.0.1:41234 ')).toEqual({ name: 'medrad.axeda.com', port: 17001, address: '127.0.0.1', addressPort: 41234 });
    expect(parseHostMapEntry('ghuk1.axeda.com=[::1]:8443')).toEqual({ name: 'ghuk1.axeda.com', port: null, address: '::1', addressPort: 8443 });
  });

  it('splits comma-separated lists and repeated flags alike', () => {
    const map = parseHostMap(['a.example=127.0.0.1,b.example:80=127.0.0.2:8080', 'c.example=127.0.0.3,']);
    expect(map.map(describeHostMapEntry)).toEqual(['a.example → 127.0.0.1', 'b.example:80 → 127.0.0.2:8080', 'c.example → 127.0.0.3']);
  });

  it('prefers a port-specific entry, keeps the port otherwise, and ignores case', () => {
    const map = parseHostMap('medrad.axeda.com=127.0.0.1,medrad.axeda.com:17001=127.0.0.1:5001');
    expect(lookUpMapping(map, 'MEDRAD.axeda.com', 17001)).toEqual({ address: '127.0.0.1', port: 5001 });
    expect(lookUpMapping(map, 'medrad.axeda.com', 443)).toEqual({ address: '127.0.0.1', port: 443 });
    expect(lookUpMapping(map, 'ghsj1.axeda.com', 443)).toBeUndefined();
  });

  it.each([
    ['medrad.axeda.com', 'expected name=address'],
    ['=127.0.0.1', 'expected name=address'],
    ['medrad.axeda.com=', 'expected name=address'],
    ['medrad.axeda.com=localhost', 'is not an IP address'],
    ['medrad.axeda.com=127.0.0.300', 'is not an IP address'],
    ['medrad.axeda.com:99999=127.0.0.1', 'is not a port'],
    ['medrad.axeda.com=127.0.0.1:0', 'is not a port'],
    ['bad name!=127.0.0.1', 'is not a host name'],
    ['a.example=::1', 'IPv6 address in brackets'],
  ])('refuses %s with a clear VALIDATION_FAILED', (entry, why) => {
    expect(() => parseHostMapEntry(entry)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringContaining(why) }));
    expect(() => parseHostMapEntry(entry)).toThrow(/name\[:port\]=address\[:port\]/);
  });
});
