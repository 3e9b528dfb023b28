// SSRF guard: webhook targets may not be loopback, private, link-local, CGNAT, multicast or cloud
// metadata addresses, unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is set.
import { BlockList, isIP } from "node:net";

const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15],
  ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["fec0::", 10], ["ff00::", 8], ["2001:db8::", 32], ["100::", 64],
] as const) {
  blocked.addSubnet(net, prefix, "ipv6");
}

/** An IPv4 address carried inside an IPv6 one (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96), if any. */
function embeddedIpv4(address: string): string | undefined {
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return undefined;
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
}

/** Whether an IP address (v4 or v6, as text) is one webhooks may not reach. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family === 6) {
    const inner = embeddedIpv4(address);
    return inner ? blocked.check(inner, "ipv4") : blocked.check(address, "ipv6");
  }
  return false;
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
export function urlRefusal(url: URL, allowPrivateNetworks: boolean, { refuseLoopbackNames = false } = {}): string | undefined {
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must be an http or https URL";
  if (allowPrivateNetworks) return undefined;
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const literal = literalAddress(host);
  if (literal && isBlockedAddress(literal)) {
    return `${literal} is a loopback, private, link-local or metadata address (set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it)`;
  }
  if (refuseLoopbackNames && (host === "localhost" || host.endsWith(".localhost"))) {
    return `${host} is a loopback name (set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it)`;
  }
  return undefined;
}
