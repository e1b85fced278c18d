import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

/**
 * True when `address` (an IP literal) is a public unicast address. Everything else is refused:
 * loopback, private (RFC 1918), link-local (incl. the 169.254.169.254 cloud metadata service),
 * unique-local IPv6, carrier-grade NAT, multicast, broadcast, unspecified, reserved, and IPv6 forms
 * embedding any of those (IPv4-mapped, NAT64 well-known prefix, 6to4, Teredo).
 */
export function isPublicAddress(address: string): boolean {
  if (isIP(address) === 0) return false
  let parsed = ipaddr.parse(address)
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address()
    else {
      const range = v6.range()
      if (range === 'rfc6052' || range === '6to4' || range === 'teredo') return false
    }
  }
  return parsed.range() === 'unicast'
}
