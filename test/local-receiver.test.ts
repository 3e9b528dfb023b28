// `npm run receiver` (functions/ops/receiver.ts) as a user runs it: a process of its own that prints what tetik
// delivers and checks the Standard Webhooks signature with the secret it was given.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDefinition, createWebhook, postEvent, waitForEvent } from "./helpers/fixtures.ts";
import { freePort, type RunningProcess, startProcess } from "./helpers/processes.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

let stack: TestStack;
const running: RunningProcess[] = [];

/** The receiver on `port` (a free one by default), once it says it listens. */
async function startLocalReceiver(args: string[], port?: number): Promise<{ process: RunningProcess; url: string }> {
  const listenOn = port ?? (await freePort());
  const receiver = startProcess(process.execPath, ["--import", "tsx", "functions/ops/receiver.ts", ...args], {
    PORT: String(listenOn),
    WEBHOOK_SECRET: "",
    RECEIVER_STATUS: "",
  });
  running.push(receiver);
  await waitFor(() => receiver.output().includes("listening on"), {
    what: "the receiver to listen",
  });
  return { process: receiver, url: `http://127.0.0.1:${listenOn}` };
}

/** The printed block of the delivery to `path` (blocks end with the answer line). */
function printed(receiver: RunningProcess, path: string): string | undefined {
  return receiver
    .output()
    .split(/\n\n/)
    .find((block) => block.includes(` POST ${path}\n`));
}

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
  await stack?.stop();
});

describe("npm run receiver", () => {
  it("prints a signed delivery and checks its signature: ok with its secret, WRONG with another", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const definition = await createDefinition(stack, { name: "local-receiver" });
    const right = await createWebhook(stack, { definitionId: definition.id, url: `${url}/right` });
    // Another webhook on the same receiver: its deliveries are signed with its own secret, not the one given.
    await createWebhook(stack, { definitionId: definition.id, url: `${url}/other` });
    const { process: receiver } = await startLocalReceiver(["--secret", right.secret], port);

    const id = await postEvent(stack, { recordId: "o-42", data: { total: 120, note: "first hour" } });
    const event = await waitForEvent(stack, id);
    expect(event.status).toBe("completed");

    const ok = await waitFor(() => printed(receiver, "/right"), {
      what: "the delivery to /right",
    });
    expect(ok).toContain(`webhook-id: `);
    expect(ok).toMatch(/webhook-timestamp: \d+ \(\d{4}-/);
    expect(ok).toContain('"recordId": "o-42"');
    expect(ok).toContain('"note": "first hour"');
    expect(ok).toContain("signature ok");
    expect(ok).toContain("answered 200");

    const wrong = await waitFor(() => printed(receiver, "/other"), { what: "the delivery to /other" });
    expect(wrong).toContain('"recordId": "o-42"');
    expect(wrong).toMatch(/signature WRONG: no signature .* matches this secret/);
    expect(wrong).not.toContain("signature ok");
  });

  it("prints a body that is not JSON, and a request without signature headers, and keeps running", async () => {
    const { process: receiver, url } = await startLocalReceiver(["--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);
    const first = await fetch(`${url}/raw`, { method: "POST", body: "total=120&not json {" });
    expect(first.status).toBe(200);
    const block = await waitFor(() => printed(receiver, "/raw"), { what: "the raw request" });
    expect(block).toContain("(not JSON, 20 bytes) total=120&not json {");
    expect(block).toMatch(/signature WRONG: webhook-id, webhook-timestamp or webhook-signature is missing/);
    // Still there for the next one.
    const second = await fetch(`${url}/after`, { method: "POST", body: "{}" });
    expect(second.status).toBe(200);
  });

  it("answers the status --status asks for, to watch tetik retry", async () => {
    const { process: receiver, url } = await startLocalReceiver(["--status", "503"]);
    const answer = await fetch(`${url}/failing`, { method: "POST", body: '{"a":1}' });
    expect(answer.status).toBe(503);
    const block = await waitFor(() => printed(receiver, "/failing"), { what: "the request" });
    expect(block).toContain("answered 503");
    expect(block).toContain("signature not checked");
  });
});
