// Debian's Chromium driven by playwright-core (no browser download): headless, as root, with the flags
// that keep it from reaching for the network on its own. Every request that leaves 127.0.0.1 is refused
// and recorded, so a page that needs the internet fails its test instead of waiting for it.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface TestBrowser {
  context: BrowserContext;
  /** Requests to anywhere but 127.0.0.1, refused. */
  outside: string[];
  close(): Promise<void>;
}

export async function startBrowser({ width = 1280, height = 900 } = {}): Promise<TestBrowser> {
  // Playwright gives the browser a new, empty profile of its own.
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 30_000,
  });
  const context = await browser.newContext({ viewport: { width, height } });
  const outside: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.protocol === "data:") return route.continue();
    outside.push(url.href);
    return route.abort("blockedbyclient");
  });
  return {
    context,
    outside,
    async close() {
      await browser.close();
    },
  };
}

/**
 * Where a test's screenshots go: test/screenshots (committed, shown in the README) with UPDATE_SCREENSHOTS=1,
 * else a temporary folder.
 */
export function screenshotPath(name: string): string {
  return process.env.UPDATE_SCREENSHOTS === "1"
    ? join(import.meta.dirname, "..", "screenshots", name)
    : join(tmpdir(), `tetik-${name}`);
}
