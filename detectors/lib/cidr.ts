/** Parses an IPv4 or IPv6 address into a bigint and its width, or undefined. */
function parseIp(ip: string): { value: bigint; bits: 32 | 128 } | undefined {
  if (ip.includes('.') && !ip.includes(':')) {
    const parts = ip.split('.');
    if (parts.length !== 4) return undefined;
    let v = 0n;
    for (const p of parts) {
      const n = Number(p);
      if (!/^\d{1,3}$/.test(p) || n > 255) return undefined;
      v = (v << 8n) | BigInt(n);
    }
    return { value: v, bits: 32 };
  }
  if (!ip.includes(':')) return undefined;
  // IPv4-mapped IPv6 (::ffff:1.2.3.4) compares as IPv4.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return parseIp(mapped[1]!);
  const [head, tail, extra] = ip.split('::');
  if (extra !== undefined) return undefined;
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const missing = 8 - h.length - t.length;
  if (tail === undefined ? h.length !== 8 : missing < 0) return undefined;
  const groups = [...h, ...Array(tail === undefined ? 0 : missing).fill('0'), ...t];
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  return { value: v, bits: 128 };
}

export interface Cidr { value: bigint; bits: 32 | 128; prefix: number }

/** `10.0.0.0/8`, `2001:db8::/32` or a bare address (a /32 or /128). Throws on garbage. */
export function parseCidr(cidr: string): Cidr {
  const [addr, len] = cidr.split('/');
  const ip = parseIp(addr ?? '');
  if (!ip) throw new Error(`not an IP network: ${cidr}`);
  const prefix = len === undefined ? ip.bits : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > ip.bits) throw new Error(`bad prefix length in ${cidr}`);
  return { ...ip, prefix };
}

export function isCidr(s: string): boolean {
  try { parseCidr(s); return true; } catch { return false; }
}

export function inCidr(ip: string, net: Cidr): boolean {
  const a = parseIp(ip);
  if (!a || a.bits !== net.bits) return false;
  const shift = BigInt(net.bits - net.prefix);
  return a.value >> shift === net.value >> shift;
}
