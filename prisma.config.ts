// Prisma CLI configuration. Migrations run through Prisma's bundled WebAssembly schema engine and the pg
// driver adapter, so nothing is downloaded at install or migrate time (see README, "Migrations").
import { createRequire } from "node:module";
import { PrismaPg } from "@prisma/adapter-pg";
import { parse } from "pg-connection-string";
import { defineConfig } from "prisma/config";

const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/tetik";
process.env.DATABASE_URL ??= DEFAULT_DATABASE_URL;

// adapter-pg 6.19 cannot read catalog columns of Postgres type `name` (oid 19; prisma/orm#27403).
// The schema engine only reads them as text, so present them as text (oid 25). CLI only: the app's
// runtime client never sees this patch.
const require = createRequire(import.meta.url);
const Result = require("pg/lib/result.js");
const addFields = Result.prototype.addFields;
Result.prototype.addFields = function (fields: Array<{ dataTypeID: number }>) {
  for (const field of fields) if (field.dataTypeID === 19) field.dataTypeID = 25;
  return addFields.call(this, fields);
};

// Fields rather than a connection string: with a connection string the adapter ignores the database
// name the engine asks for (e.g. a shadow database) and connects to the main one. pg's own parser makes
// them, so the URL's TLS settings (sslmode, sslrootcert, ...) are kept as pg's runtime pool reads them.
function connectionFields(url: string) {
  const { host, port, user, password, database, ssl } = parse(url);
  return {
    host: host ?? "127.0.0.1",
    port: Number(port || 5432),
    user: user || "postgres",
    // In the container the password comes apart from the URL (DATABASE_PASSWORD, an ECS secret), as tetik reads it.
    password: password || process.env.DATABASE_PASSWORD || undefined,
    database: database || "postgres",
    ...(ssl === undefined ? {} : { ssl: ssl as boolean | object }),
  };
}

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  adapter: async () => new PrismaPg(connectionFields(process.env.DATABASE_URL!)),
});
