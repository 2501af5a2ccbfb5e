import type { DetectorException } from '../../schemas/config.ts';
import type { EcsEvent } from '../../schemas/event.ts';
import { inCidr, parseCidr } from '../../detectors/lib/cidr.ts';
import { fieldValue, globRe } from '../../detectors/lib/field.ts';

/** The first exception whose every condition matches the event, if any. */
export function matchException(e: EcsEvent, exceptions: readonly DetectorException[]): DetectorException | undefined {
  return exceptions.find((ex) => ex.match.every((c) => {
    const v = fieldValue(e, c.field);
    const vals = Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)];
    return vals.some((x) => {
      switch (c.op) {
        case 'eq': case 'in': return c.values.includes(x);
        case 'prefix': return c.values.some((p) => x.startsWith(p));
        case 'glob': return c.values.some((g) => globRe(g).test(x));
        case 'cidr': return c.values.some((n) => inCidr(x, parseCidr(n)));
      }
    });
  }));
}
