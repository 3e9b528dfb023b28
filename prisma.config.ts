// Prisma CLI configuration. Migrations run through Prisma's bundled WebAssembly schema engine and the pg
// driver adapter, so nothing is downloaded at install or migrate time (see README, "Migrations").
import { createRequire } from "node:module";
import { PrismaPg } from "@prisma/adapter-pg";
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
// name the engine asks for (e.g. a shadow database) and connects to the main one.
function connectionFields(url: string) {
  const u = new URL(url);
  return {
    host: decodeURIComponent(u.hostname),
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || "postgres"),
    password: decodeURIComponent(u.password) || undefined,
    database: decodeURIComponent(u.pathname.slice(1)) || "postgres",
  };
}

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  adapter: async () => new PrismaPg(connectionFields(process.env.DATABASE_URL!)),
});
