// The role tetik's processes connect as (made by the migration 20261203000000_app_role): rows, no DDL.
// Where passwords are checked (RDS), the migrations give it its password from Secrets Manager on every
// run, so a new value in the secret is taken by the next run (README, Rotating secrets).
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import type pg from "pg";

export const APP_ROLE = "tetik_app";

/** Postgres's own default number of SCRAM iterations (and RDS Proxy's, which it cannot change for clients). */
const SCRAM_ITERATIONS = 4096;

/**
 * The SCRAM-SHA-256 verifier Postgres stores for `password` (RFC 5802, 7677), as `psql`'s \password makes
 * it: sent instead of the password, so the password itself never reaches the server's statement log.
 * The passwords Secrets Manager generates here are letters and digits, which SASLprep leaves as they are.
 */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const hmac = (text: string) => createHmac("sha256", salted).update(text).digest();
  const storedKey = createHash("sha256").update(hmac("Client Key")).digest();
  const serverKey = hmac("Server Key");
  const b64 = (bytes: Buffer) => bytes.toString("base64");
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}

/** Gives the role its password (and the right to log in with it), on a connection of the migrating user. */
export async function setAppRolePassword(client: pg.Client, password: string): Promise<void> {
  // DDL takes no parameters: the verifier is a literal, made of base64 and punctuation, escaped anyway.
  await client.query(`ALTER ROLE ${APP_ROLE} WITH LOGIN PASSWORD ${client.escapeLiteral(scramVerifier(password))}`);
}
