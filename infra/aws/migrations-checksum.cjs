// For serverless.yml: one checksum of every migration, so the Migrations custom resource changes (and
// CloudFormation runs it) exactly when a migration was added or changed.
const { createHash } = require("node:crypto");
const { existsSync, readdirSync, readFileSync } = require("node:fs");
const { join } = require("node:path");

module.exports.checksum = () => {
  const dir = join(__dirname, "..", "..", "prisma", "migrations");
  const hash = createHash("sha256");
  // The same migrations the runner applies (functions/platform/migrate.ts): folders with a migration.sql.
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name, "migration.sql");
    if (existsSync(file)) hash.update(name).update(readFileSync(file));
  }
  return hash.digest("hex");
};
