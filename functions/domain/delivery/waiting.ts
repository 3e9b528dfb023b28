// Why a pending delivery waits for its turn: behind an earlier one of its record (ordering), or under its
// webhook's flow control (the limiter's reasons, platform/flow-limiter.ts). Shown on actions and in explain.
import type { WaitReason } from "../../platform/flow-limiter.ts";

export const WAITING_REASONS = ["order", "rate", "in_flight", "paused"] as const satisfies readonly (
  | WaitReason
  | "order"
)[];
export type Waiting = (typeof WAITING_REASONS)[number];
