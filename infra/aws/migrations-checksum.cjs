// For serverless.yml: one checksum of every migration, so the Migrations custom resource changes (and
// CloudFormation runs it) exactly when a migration was added or changed.
const { createHash } = require("node:crypto");
const { readdirSync, readFileSync } = require("node:fs");
const { join } = require("node:path");

module.exports.checksum = () => {
  const dir = join(__dirname, "..", "..", "prisma", "migrations");
  const hash = createHash("sha256");
  for (const name of readdirSync(dir).sort()) {
    if (name.endsWith(".toml")) continue;
    hash.update(name).update(readFileSync(join(dir, name, "migration.sql")));
  }
  return hash.digest("hex");
};
