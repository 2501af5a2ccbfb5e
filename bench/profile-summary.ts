// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package, top N.
//   npx tsx bench/profile-summary.ts FILE.cpuprofile [N]
import fs from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
const [file, top = '15'] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [N]');
const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; startTime: number; endTime: number };
const hits = new Map<number, number>();
for (const s of prof.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
const total = prof.samples.length;
const byFn = new Map<string, number>();
const byPkg = new Map<string, number>();
for (const n of prof.nodes) {
  const h = hits.get(n.id) ?? 0;
  if (!h) continue;
  const url = n.callFrame.url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.includes('/podwatch/') || url.includes('/work/') ? `podwatch:${url.split('/').slice(-2).join('/')}` : url ? 'node' : `(${n.callFrame.functionName || 'program'})`);
  const fn = `${n.callFrame.functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + h);
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + h);
}
const show = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(top)).map(([k, v]) => ({ share: `${((100 * v) / total).toFixed(1)}%`, what: k }));
console.log(`${file}: ${total} samples over ${((prof.endTime - prof.startTime) / 1e6).toFixed(1)} s`);
console.table(show(byPkg));
console.table(show(byFn));
