// A minimal MaxMind DB (MMDB v2) writer for tests: IPv4 networks → records, so the GeoIP
// enrichment is tested against a real file read by the real `maxmind` reader. Supports maps,
// UTF-8 strings, unsigned integers and arrays, which is all GeoLite2 City/ASN records use.

type Value = string | number | Value[] | { [k: string]: Value };

function ctrl(type: number, size: number): Buffer {
  if (size >= 29 + 256) throw new Error('mmdb test writer: sizes over 284 are not supported');
  const [field, extra] = size < 29 ? [size, []] : [29, [size - 29]];
  return Buffer.from(type <= 7 ? [(type << 5) | field, ...extra] : [field, type - 7, ...extra]);
}

function uint(n: number, type: number): Buffer {
  const bytes: number[] = [];
  for (let v = BigInt(n); v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn));
  return Buffer.concat([ctrl(type, bytes.length), Buffer.from(bytes)]);
}

function encode(v: Value): Buffer {
  if (typeof v === 'string') { const b = Buffer.from(v, 'utf8'); return Buffer.concat([ctrl(2, b.length), b]); }
  if (typeof v === 'number') return uint(v, v < 2 ** 32 ? 6 : 9);
  if (Array.isArray(v)) return Buffer.concat([ctrl(11, v.length), ...v.map(encode)]);
  const entries = Object.entries(v);
  return Buffer.concat([ctrl(7, entries.length), ...entries.flatMap(([k, x]) => [encode(k), encode(x)])]);
}

interface Node { children: [Node | number | undefined, Node | number | undefined]; index?: number }

/** Builds an IPv4 MMDB with 24-bit records mapping each CIDR to its record. */
export function writeMmdb(databaseType: string, networks: Array<[string, Value]>): Buffer {
  const data: Buffer[] = [];
  let dataLen = 0;
  const root: Node = { children: [undefined, undefined] };
  for (const [cidr, record] of networks) {
    const [ip, len] = cidr.split('/');
    const bits = ip!.split('.').reduce((a, o) => (a << 8) | Number(o), 0) >>> 0;
    const prefix = Number(len);
    const offset = dataLen;
    const enc = encode(record);
    data.push(enc);
    dataLen += enc.length;
    let node = root;
    for (let i = 0; i < prefix; i++) {
      const bit = (bits >>> (31 - i)) & 1;
      if (i === prefix - 1) { node.children[bit] = -(offset + 1); break; }
      let next = node.children[bit];
      if (typeof next !== 'object') { next = { children: [undefined, undefined] }; node.children[bit] = next; }
      node = next;
    }
  }
  const nodes: Node[] = [];
  const number = (n: Node) => { n.index = nodes.length; nodes.push(n); for (const c of n.children) if (typeof c === 'object') number(c); };
  number(root);
  const count = nodes.length;
  const record = (c: Node | number | undefined): number => (c === undefined ? count : typeof c === 'object' ? c.index! : count + 16 + (-c - 1));
  const tree = Buffer.alloc(count * 6);
  nodes.forEach((n, i) => { tree.writeUIntBE(record(n.children[0]), i * 6, 3); tree.writeUIntBE(record(n.children[1]), i * 6 + 3, 3); });
  const metadata = encode({
    binary_format_major_version: 2, binary_format_minor_version: 0, build_epoch: 1796000000, database_type: databaseType,
    description: { en: 'Podwatch test database' }, ip_version: 4, languages: ['en'], node_count: count, record_size: 24,
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...data, Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com'), metadata]);
}
