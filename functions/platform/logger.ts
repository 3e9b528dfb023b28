// Structured JSON logs on stdout. People read them through pino-pretty (`npm start` pipes into it);
// collectors (CloudWatch, ECS) take the JSON as it is.
import { pino, type Logger } from "pino";
import { config } from "./config.ts";

export type { Logger };

let root: Logger | undefined;

/** The process-wide logger; `component` names the piece that writes (api, worker, sweep). */
export function logger(component?: string): Logger {
  root ??= pino({ level: config().LOG_LEVEL, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
  return component ? root.child({ component }) : root;
}
