/// <reference lib="dom" />
// The dashboard in a real browser (Debian's Chromium, headless, no way out of 127.0.0.1), as an operator
// uses it: sign in with the key, find an event by its record id, open it, replay its failed delivery and
// watch it complete, send a test delivery, and leave no key or secret in the page's storage or URLs.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { screenshotPath, startBrowser, type TestBrowser } from "./helpers/browser.ts";
import { waitForEvent } from "./helpers/fixtures.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

const KEY = "dashboard-key-0f3a9c";
let stack: TestStack;
let receiver: Receiver;
let browser: TestBrowser;
let url: string;
let secret: string;
let receiverUp = false;
const seen: string[] = [];

beforeAll(async () => {
  [stack, receiver, browser] = await Promise.all([
    startStack({ env: { API_KEY: KEY } }),
    startReceiver(() => (receiverUp ? { status: 200, body: "thanks" } : { status: 503, body: "down for maintenance" })),
    startBrowser(),
  ]);
  url = await stack.serve();
  // The stack's client sends the key (API_KEY above).
  const definition = await stack.client.definitions.create({
    name: "paid-orders",
    type: "collection.updated",
    collection: "orders",
    condition: { "data.status": "paid" },
  });
  const webhook = await stack.client.webhooks.create({
    definitionId: definition.id,
    url: `${receiver.url}/paid`,
    retry: { maxAttempts: 1 },
  });
  secret = webhook.secret;
  for (let i = 0; i < 5; i++)
    await stack.client.events.ingest({
      type: "collection.updated",
      collection: "orders",
      recordId: `o-${i}`,
      data: { status: "new" },
    });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([stack?.stop(), receiver?.close()]);
});

/** Everything a page keeps or shows that a script or a person could read. */
async function exposed(page: Page): Promise<string> {
  seen.push(page.url());
  return JSON.stringify(
    await page.evaluate(() => ({
      local: { ...localStorage },
      session: { ...sessionStorage },
      cookie: document.cookie,
      url: location.href,
    })),
  );
}

describe("the dashboard", () => {
  it(
    "signs in with the key, finds an event by its record id, replays its failed delivery and watches it " + "complete",
    async () => {
      const failing = await stack.client.events.ingest({
        type: "collection.updated",
        collection: "orders",
        recordId: "o-42",
        data: { status: "paid" },
        previous: { status: "new" },
      });
      await waitForEvent(stack, failing.id, ["failed"]);

      const page = await browser.context.newPage();
      page.on("framenavigated", (frame) => seen.push(frame.url()));
      await page.goto(`${url}/dashboard`);
      expect(new URL(page.url()).pathname).toBe("/dashboard/sign-in");
      await page.getByLabel("API key").fill("not-the-key");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect.poll(() => page.getByRole("alert").innerText()).toContain("not a key of this server");
      await page.getByLabel("API key").fill(KEY);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Overview" }).waitFor();
      const cookies = await browser.context.cookies();
      expect(cookies).toEqual([
        expect.objectContaining({ name: "tetik_session", httpOnly: true, sameSite: "Strict", path: "/dashboard" }),
      ]);
      // The six ingested, and any operational event about them (o-42's delivery.exhausted): the log's count.
      const logged = (await stack.client.events.list({ limit: 50 })).data.length;
      expect(logged).toBeGreaterThanOrEqual(6);
      expect(await page.locator("section[aria-label='Last hour'] .big").innerText()).toBe(`${logged} events`);
      await page.screenshot({ path: screenshotPath("dashboard-overview.png"), fullPage: true });

      // Keyboard first: the first Tab lands on the skip link.
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");

      await page.getByRole("link", { name: "Events", exact: true }).click();
      await page.getByLabel("Record id").fill("o-42");
      await page.getByRole("button", { name: "Filter" }).click();
      const rows = page.locator("table.events tbody tr");
      await expect.poll(() => rows.count()).toBe(1);
      await rows.first().getByRole("link").click();
      await page.getByRole("heading", { name: `Event ${failing.id}` }).waitFor();
      const summary = page.locator("section[aria-label='Summary']");
      expect(await summary.locator(".status").first().innerText()).toBe("failed");
      const timeline = page.locator(".timeline li");
      expect(await timeline.count()).toBe(1);
      expect(await timeline.first().innerText()).toContain("503");
      await timeline.first().getByText("Response body").click();
      expect(await timeline.first().locator("pre").innerText()).toBe("down for maintenance");
      await page.screenshot({ path: screenshotPath("dashboard-event.png"), fullPage: true });

      receiverUp = true;
      await page.getByRole("button", { name: "Replay failed actions" }).click();
      await expect.poll(() => page.getByRole("status").innerText()).toContain("1 action queued again");
      // The page refreshes itself while open: completed shows up without a reload.
      await expect.poll(() => summary.locator(".status").first().innerText(), { timeout: 20_000 }).toBe("completed");
      await expect.poll(() => timeline.count()).toBe(2);
      expect(await timeline.nth(1).innerText()).toContain("200");
      expect(receiver.at("/paid").length).toBe(2);

      expect(await exposed(page)).not.toContain(KEY);
      await page.close();
    },
  );

  it("sends a test delivery from a webhook's page and shows the answer; turns a definition off and on", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${url}/dashboard/webhooks`);
    await page.getByRole("link", { name: `${receiver.url}/paid` }).click();
    const before = receiver.at("/paid").length;
    await page.getByRole("button", { name: "Send a test delivery" }).click();
    await expect.poll(() => page.locator("#test-status").innerText()).toBe("200");
    expect(receiver.at("/paid")).toHaveLength(before + 1);
    expect(await page.locator("section[aria-label='Recent deliveries'] tbody tr").count()).toBeGreaterThanOrEqual(3);

    await page.getByRole("link", { name: /def_/ }).first().click();
    await page.getByRole("button", { name: "Turn off" }).click();
    await expect.poll(() => page.getByRole("status").innerText()).toBe("Turned off");
    const definitionId = new URL(page.url()).pathname.split("/").pop()!;
    expect((await stack.client.definitions.get(definitionId)).active).toBe(false);
    await page.getByRole("button", { name: "Turn on" }).click();
    await expect.poll(() => page.getByRole("status").innerText()).toBe("Turned on");

    const shown = await exposed(page);
    expect(shown).not.toContain(KEY);
    expect(shown).not.toContain(secret);
    expect(await page.content()).not.toContain(secret);
    await page.close();
  });

  it("shows why an event fired on its page, and dry-runs a change from a definition's page", async () => {
    const missed = await stack.client.events.ingest({
      type: "collection.updated",
      collection: "orders",
      recordId: "o-77",
      data: { status: "new" },
    });
    await waitForEvent(stack, missed.id, ["completed"]);
    const page = await browser.context.newPage();
    await page.goto(`${url}/dashboard/events/${missed.id}`);
    const why = page.locator("section[aria-label='Why it fired']");
    expect(await why.innerText()).toContain("paid-orders");
    expect(await why.innerText()).toContain('data.status = "paid": "new" -> false');
    expect(await why.locator(".status").first().innerText()).toBe("no match");

    await why.getByRole("link", { name: "paid-orders" }).click();
    await page.getByLabel(/A would-be event/).fill(
      JSON.stringify({
        record: { collection: "orders", id: "o-99", data: { status: "paid" }, previous: { status: "new" } },
      }),
    );
    const before = receiver.requests.length;
    await page.getByRole("button", { name: "Dry run" }).click();
    const result = page.locator("#dry-run-result");
    await result.waitFor();
    expect(await result.innerText()).toContain("matched");
    expect(await result.innerText()).toContain(`${receiver.url}/paid`);
    expect(receiver.requests.length).toBe(before);
    await page.getByLabel(/A would-be event/).fill("{not json");
    await page.getByRole("button", { name: "Dry run" }).click();
    await expect.poll(() => page.getByRole("alert").innerText()).toBe("That is not JSON.");
    await page.close();
  });

  it("refuses actions without the session's CSRF token, and pages without a session", async () => {
    const events = await stack.client.events.list({ limit: 1 });
    const id = events.data[0]!.id;
    const forged = await fetch(`${url}/dashboard/events/${id}/replay`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "all=true",
    });
    expect(forged.status).toBe(401);
    // A body with no length (chunked) is cut off at 16 KiB, before sign-in: nothing is read past it.
    const huge = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 64; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1024)));
        controller.close();
      },
    });
    const flood = await fetch(`${url}/dashboard/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: huge,
      duplex: "half",
    } as RequestInit);
    expect(flood.status).toBe(413);
    // A notice is one of a fixed few: a link cannot put its own words on the page.
    const crafted = await browser.context.newPage();
    await crafted.goto(`${url}/dashboard?done=Call+0800+now&notice=Call+0800+now`);
    expect(await crafted.content()).not.toContain("0800");
    await crafted.close();
    const page = await browser.context.newPage();
    await page.goto(`${url}/dashboard`);
    // Signed in (the cookie): a form posted without its token is refused with a page that says why.
    const answer = await page.evaluate(
      async (path) =>
        (await fetch(path, { method: "POST", body: new URLSearchParams({ all: "true", csrf: "forged" }) })).status,
      `/dashboard/events/${id}/replay`,
    );
    expect(answer).toBe(401);
    await page.close();
  });

  it("signs in with an admin key made through the API, makes a key on the keys page and shows it once", async () => {
    const made = await stack.api(
      "POST",
      "/keys",
      { name: "ops (admin)", scopes: ["admin"] },
      { authorization: `Bearer ${KEY}` },
    );
    expect(made.status).toBe(201);
    const adminKey = (made.body as { key: string }).key;
    const page = await browser.context.newPage();
    await page.goto(`${url}/dashboard/sign-in`);
    await page.getByLabel("API key").fill(adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();

    await page.getByRole("link", { name: "Keys", exact: true }).click();
    await page.getByRole("heading", { name: "Keys", exact: true }).waitFor();
    await page.getByLabel("Name").fill("orders-service");
    await page.locator("input[name='scope-ingest']").check();
    await page.getByLabel(/Collections/).fill("orders");
    await page.getByLabel(/Expires/).fill("2027-06-30T12:00");
    await page.getByRole("button", { name: "Make key" }).click();
    const shown = (await page.locator("#new-key").innerText()).trim();
    expect(shown).toMatch(/^tk_[A-Za-z0-9_-]{43}$/);
    const rows = page.locator("table.keys tbody tr");
    expect(await rows.count()).toBe(2);
    expect(await rows.first().innerText()).toContain("orders-service");
    expect(await rows.first().innerText()).toContain("2027-06-30 12:00:00Z");
    await page.screenshot({ path: screenshotPath("dashboard-keys.png"), fullPage: true });

    // The new key works on the API, and the keys page never shows it again.
    const ingested = await stack.api(
      "POST",
      "/events",
      { type: "collection.created", collection: "orders", recordId: "o-500", data: {} },
      { authorization: `Bearer ${shown}` },
    );
    expect(ingested.status).toBe(202);
    await page.goto(`${url}/dashboard/keys`);
    expect(await page.content()).not.toContain(shown);
    expect(await exposed(page)).not.toContain(shown);

    // The audit trail has the key's creation, by the admin key, with its fields and never the key itself.
    await page.getByRole("link", { name: "Audit", exact: true }).click();
    await page.getByRole("heading", { name: "Audit trail" }).waitFor();
    const newest = page.locator("table.audit > tbody > tr").first();
    expect(await newest.innerText()).toContain("key.create");
    expect(await newest.innerText()).toContain("ops (admin)");
    await newest.locator("summary").click();
    expect(await newest.locator("tr.changed").filter({ hasText: "name" }).first().innerText()).toContain(
      "orders-service",
    );
    expect(await page.content()).not.toContain(shown);
    await page.screenshot({ path: screenshotPath("dashboard-audit.png"), fullPage: true });
    await page.close();
  });

  it("fits a 390 px phone screen, and signs out", async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of ["/dashboard", "/dashboard/events", "/dashboard/webhooks"]) {
      await page.goto(`${url}${path}`);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(390);
    }
    await page.goto(`${url}/dashboard/events`);
    await page.screenshot({ path: screenshotPath("dashboard-phone.png") });
    await page.getByRole("button", { name: "Sign out" }).click();
    expect(new URL(page.url()).pathname).toBe("/dashboard/sign-in");
    await page.goto(`${url}/dashboard/events`);
    expect(new URL(page.url()).pathname).toBe("/dashboard/sign-in");
    await page.close();

    expect(browser.outside).toEqual([]);
    for (const address of seen) expect(address).not.toContain(KEY);
  });
});
