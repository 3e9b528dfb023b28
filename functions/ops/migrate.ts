// `npm run migrate`: waits for Postgres, creates the database if missing, applies every pending migration
// (run-as-task ones included: this is also the command of the one-off ECS task, infra/run-migrations.sh)
// and, where APP_DATABASE_PASSWORD is set (AWS), gives the role tetik_app its password.
//   npm run migrate
//   npm run migrate -- resolve --rolled-back <name>   a failed migration was undone by hand: run it again
//   npm run migrate -- resolve --applied <name>       a failed migration was finished by hand
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { config } from "../platform/config.ts";
import { applyMigrations, resolveMigration } from "../platform/migrate.ts";
import { terminal, waitForPostgres } from "../platform/wait-for-services.ts";

/** Applies every pending migration to the database at `url` (created if missing); `quiet` prints nothing. */
export async function migrate(
  url: string,
  { quiet = false, deadline, appRolePassword }: { quiet?: boolean; deadline?: number; appRolePassword?: string } = {},
): Promise<void> {
  const { applied } = await applyMigrations(url, undefined, { deadline, appRolePassword });
  if (!quiet)
    terminal.info(
      applied.length ? `applied ${applied.length} migration(s): ${applied.join(", ")}` : "the database is up to date",
    );
}

async function main(args: string[]) {
  const { DATABASE_URL, DEPENDENCY_WAIT_MS, MIGRATE_TIMEOUT_MS, APP_DATABASE_PASSWORD } = config();
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { "rolled-back": { type: "string" }, applied: { type: "string" } },
  });
  await waitForPostgres(DATABASE_URL, { waitMs: DEPENDENCY_WAIT_MS, log: terminal });
  if (positionals[0] === "resolve") {
    const name = values["rolled-back"] ?? values.applied;
    if (!name || (values["rolled-back"] && values.applied))
      throw new Error("resolve takes one of --rolled-back <name> or --applied <name>");
    await resolveMigration(DATABASE_URL, name, values.applied ? "applied" : "rolled-back");
    terminal.info(`${name} resolved as ${values.applied ? "applied" : "rolled back"}`);
    return;
  }
  if (positionals.length) throw new Error(`unknown command ${positionals.join(" ")} (resolve is the only one)`);
  await migrate(DATABASE_URL, {
    deadline: Date.now() + MIGRATE_TIMEOUT_MS,
    appRolePassword: APP_DATABASE_PASSWORD,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`tetik: migration failed: ${error.message}`);
    process.exit(1);
  });
}
