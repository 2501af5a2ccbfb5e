import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EcsEvent } from '../../schemas/event.ts';
import type { Detector, Finding } from './types.ts';

/** The events of a detector's fixture file. */
export function fixture(id: string, kind: 'positive' | 'negative'): EcsEvent[] {
  const file = fileURLToPath(new URL(`../${id}.${kind}.ndjson`, import.meta.url));
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => EcsEvent.parse(JSON.parse(l)));
}

/** A copy of `e` at `seconds` after a base time, with its own id and changes. */
export function variant(e: EcsEvent, seconds: number, id: string, patch: (x: any) => void = () => {}): EcsEvent {
  const x: any = structuredClone(e);
  x['@timestamp'] = new Date(Date.UTC(2026, 11, 3, 10, 0, 0) + seconds * 1000).toISOString();
  x.event.id = id;
  patch(x);
  return EcsEvent.parse(x);
}

/** Runs one detector over events with fresh state; returns every finding. */
export function runDetector<P>(d: Detector<P>, events: EcsEvent[], params: unknown = {}): Finding[] {
  const p = d.params.parse(params);
  const states = new Map<string, unknown>();
  const out: Finding[] = [];
  for (const e of events) {
    for (const key of d.keys(e, p)) {
      const r = d.detect(e, states.get(key), p, key);
      states.set(key, r.state);
      out.push(...r.findings);
    }
  }
  return out;
}
