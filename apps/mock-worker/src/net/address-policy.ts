import { BlockList, isIP } from 'node:net'

/**
 * Which IP addresses an outgoing request to a user-given URL may reach (SSRF guard).
 * `loopback`: 127.0.0.0/8, ::1. `private`: RFC 1918, CGNAT, ULA, link-local (incl. cloud metadata
 * 169.254.169.254 / fd00:ec2::254), unspecified, multicast, reserved, IPv4-mapped forms of those.
 */
export type AddressClass = 'public' | 'loopback' | 'private'

const loopback = new BlockList()
loopback.addSubnet('127.0.0.0', 8, 'ipv4')
loopback.addAddress('::1', 'ipv6')

const blocked = new BlockList()
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  blocked.addSubnet(net, bits, 'ipv4')
for (const [net, bits] of [
  ['::', 128],
  ['fc00::', 7], // unique local (incl. fd00:ec2::254 metadata)
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['2001:db8::', 32], // documentation
  ['64:ff9b:1::', 48], // local-use NAT64
] as const)
  blocked.addSubnet(net, bits, 'ipv6')

/** The IPv4 address an IPv4-mapped / -compatible IPv6 address stands for, else undefined. */
function embeddedIpv4(address: string): string | undefined {
  const match = /^::(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (match?.[1] !== undefined) return match[1]
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address)
  if (hex?.[1] === undefined || hex[2] === undefined) return undefined
  const hi = Number.parseInt(hex[1], 16)
  const lo = Number.parseInt(hex[2], 16)
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

/** Classify one literal IP address (v4 or v6). Anything that is not an IP is `private` (refused). */
export function classifyAddress(raw: string): AddressClass {
  const address = raw.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  const family = isIP(address)
  if (family === 0) return 'private'
  if (family === 6) {
    const v4 = embeddedIpv4(address)
    if (v4 !== undefined) return classifyAddress(v4)
  }
  const type = family === 4 ? 'ipv4' : 'ipv6'
  if (loopback.check(address, type)) return 'loopback'
  if (blocked.check(address, type)) return 'private'
  return 'public'
}

/** Whether a request may connect to `address` (a literal IP) under the policy. */
export function addressAllowed(address: string, allowLoopback: boolean): boolean {
  const kind = classifyAddress(address)
  return kind === 'public' || (kind === 'loopback' && allowLoopback)
}
