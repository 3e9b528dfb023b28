// SSRF guard: webhook targets may only be public unicast addresses, unless WEBHOOK_ALLOW_PRIVATE_NETWORKS
// is set. The classification is ipaddr.js's (a well-kept list of special ranges): loopback, private,
// link-local, CGNAT, multicast, reserved and metadata addresses are refused, and so is every IPv6 form
// that carries an IPv4 address (mapped, translated, NAT64, 6to4, Teredo), except an IPv4-mapped address
// whose IPv4 address is public itself.
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/** IPv4-compatible addresses (::a.b.c.d, deprecated): ipaddr.js counts them as unicast, but they carry IPv4. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR("::/96");

/** Whether an IP address (v4 or v6, as text) is one webhooks may not reach. */
export function isBlockedAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6") {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
    else if (v6.match(IPV4_COMPATIBLE)) return true;
  }
  return parsed.range() !== "unicast";
}

/** The host of a URL as an IP literal (brackets of IPv6 removed), or undefined for a name. */
export function literalAddress(hostname: string): string | undefined {
  const host = hostname.replace(/^\[|\]$/g, "");
  return isIP(host) ? host : undefined;
}

/**
 * Why a URL may not be a webhook target, judged without any DNS lookup, or undefined when it may be.
 * Names are judged when connecting (http-agent.ts); `refuseLoopbackNames` also refuses `localhost`
 * up front, for a clearer answer at save time.
 */
export function urlRefusal(
  url: URL,
  allowPrivateNetworks: boolean,
  { refuseLoopbackNames = false } = {},
): string | undefined {
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must be an http or https URL";
  if (allowPrivateNetworks) return undefined;
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const literal = literalAddress(host);
  if (literal && isBlockedAddress(literal)) {
    return (
      `${literal} is a loopback, private, link-local or metadata address ` +
      "(set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it)"
    );
  }
  if (refuseLoopbackNames && (host === "localhost" || host.endsWith(".localhost"))) {
    return `${host} is a loopback name (set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it)`;
  }
  return undefined;
}
