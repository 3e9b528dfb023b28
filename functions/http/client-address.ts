// The address a request came from, as the platform saw it: API Gateway's sourceIp under Lambda (and
// serverless offline), the socket's peer on Node. Headers such as X-Forwarded-For are not read: anyone can
// send them. Behind a proxy of your own on Node, every request then shares the proxy's address.
import ipaddr from "ipaddr.js";
import type { Context } from "hono";

interface PlatformEnv {
  requestContext?: { http?: { sourceIp?: string }; identity?: { sourceIp?: string } };
  incoming?: { socket?: { remoteAddress?: string } };
}

/**
 * The client's address for counting its requests: IPv4 as it is, IPv6 by its /64 (one host commonly holds
 * a whole /64), an IPv4 address mapped into IPv6 as IPv4. "unknown" when the platform does not say.
 */
export function clientAddress(c: Context): string {
  const env = (c.env ?? {}) as PlatformEnv;
  const raw =
    env.requestContext?.http?.sourceIp ?? env.requestContext?.identity?.sourceIp ?? env.incoming?.socket?.remoteAddress;
  if (!raw || !ipaddr.isValid(raw)) return "unknown";
  const address = ipaddr.process(raw);
  if (address.kind() === "ipv4") return address.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${address.toNormalizedString()}/64`).toString()}/64`;
}
