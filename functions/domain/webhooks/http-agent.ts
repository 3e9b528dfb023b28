// The connection pool webhooks go out through: keep-alive, and an SSRF guard on the address actually
// connected to, so a name that resolves (or later re-resolves) to a private address is refused.
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { Agent } from "undici";
import { isBlockedAddress } from "./address-guard.ts";

export class BlockedAddressError extends Error {
  readonly code = "ERR_BLOCKED_ADDRESS";
  constructor(hostname: string, address: string) {
    super(`${hostname} resolves to ${address}, a loopback, private, link-local or metadata address`);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that fails when any address the name resolves to is blocked. */
function guardedLookup(hostname: string, options: object, callback: LookupCallback) {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const bad = addresses.find((a) => isBlockedAddress(a.address));
    if (bad) return callback(new BlockedAddressError(hostname, bad.address), []);
    if ((options as { all?: boolean }).all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
}

const agents = new Map<boolean, Agent>();

export function webhookAgent(allowPrivateNetworks: boolean): Agent {
  let agent = agents.get(allowPrivateNetworks);
  if (!agent) {
    agent = new Agent({
      keepAliveTimeout: 30_000,
      connections: 64,
      connect: allowPrivateNetworks ? {} : { lookup: guardedLookup as never },
    });
    agents.set(allowPrivateNetworks, agent);
  }
  return agent;
}
