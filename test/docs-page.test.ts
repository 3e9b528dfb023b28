// The reference page at /docs, in a real browser (Debian's Chromium, headless) with no way out to the
// internet: it renders every route from /openapi.json with the page's own files, and asks nothing of any
// other host.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allRoutes } from "../functions/api/contract/routes.ts";
import { startBrowser, screenshotPath, type TestBrowser } from "./helpers/browser.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

let stack: TestStack;
let browser: TestBrowser;
let url: string;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startStack({ worker: false, env: { API_KEY: "docs-key-0123456789" } }),
    startBrowser(),
  ]);
  url = await stack.serve();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("GET /docs in a browser", () => {
  it("renders every route of the document, without the API key and without the internet", async () => {
    const page = await browser.context.newPage();
    const failed: string[] = [];
    page.on("requestfailed", (request) => failed.push(`${request.url()} ${request.failure()?.errorText}`));
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));

    const answer = await page.goto(`${url}/docs`);
    expect(answer?.status()).toBe(200);
    await page.locator(".swagger-ui .info .title").filter({ hasText: "tetik" }).waitFor({ timeout: 20_000 });
    const operations = page.locator(".opblock");
    await expect.poll(() => operations.count(), { timeout: 10_000 }).toBe(Object.keys(allRoutes).length);
    await page.screenshot({ path: screenshotPath("docs.png") });

    // One operation opened, as a reader would: its parameters and its answers, the error shape among them.
    await page.locator("#operations-Events-post_events .opblock-summary-control").click();
    const ingest = page.locator("#operations-Events-post_events");
    await ingest.locator(".responses-wrapper").waitFor();
    const text = await ingest.innerText();
    expect(text).toContain("Idempotency-Key");
    for (const status of ["202", "400", "401", "413", "415", "422", "503"]) expect(text).toContain(status);

    await page.screenshot({ path: screenshotPath("docs-ingest.png") });
    expect(browser.outside).toEqual([]);
    expect(failed).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
