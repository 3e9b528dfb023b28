// What an action kind is: how it is planned, how its row starts, how it runs. One entry per kind in
// registry.ts; a kind the database knows and the registry does not is a compile error there.
import type { DefinitionWithTargets, MatchableEvent } from "../../matching/match-definitions.ts";
import type { LoadedAction, PlannedAction } from "../action-log/action-log.ts";
import type { MatchConfig, WorkerDeps } from "./runtime.ts";

/** What a run answers: when the action should run again (a retry's time), or null when it is done for now. */
export type RunOutcome = { retryAt: Date | null };

export interface ActionKindEntry {
  /** The targets of a definition this kind runs: the config cache's active ones. */
  targets(definition: DefinitionWithTargets): Array<{ id: string }>;
  /** Its row when its event matches (its first run starts right after, made by the matching run). */
  start: PlannedAction["start"];
  /** The first run, with the target from the config the event was matched against. */
  runFirst(deps: WorkerDeps, action: PlannedAction, event: MatchableEvent, config: MatchConfig): Promise<RunOutcome>;
  /** A later run (a retry, a replay, the sweep's), with the target as it is now. */
  runAgain(deps: WorkerDeps, action: LoadedAction): Promise<RunOutcome>;
}
