import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, expect } from "vitest";

/**
 * Headless Chromium for the browser tests and the UI benchmark: Debian's /usr/bin/chromium (`apt-get install
 * chromium`) driven by playwright-core, with a fresh profile each launch and nothing that calls out.
 */
export const CHROMIUM = process.env.KEEL_CHROMIUM ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Browser {
  context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** A headless browser with its own fresh user-data dir (removed on close). */
export async function launchBrowser(opts: { colorScheme?: "light" | "dark"; viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "keel-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: opts.viewport ?? { width: 1400, height: 900 },
      colorScheme: opts.colorScheme ?? "light",
      timeout: 60_000,
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`cannot start ${CHROMIUM} (install it with \`apt-get install chromium\`): ${(err as Error).message}`);
  }
  return {
    context,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where the browser tests leave screenshots for a reviewer. */
export const SCREENSHOTS = join(import.meta.dirname, "..", "..", "test-artifacts", "screenshots");

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

/**
 * The browser and page a UI test file drives. Call at the file's top level (it registers the hooks) and
 * `open()` in beforeAll once the server is up: errors the page throws fail the test they happened in, and
 * the browser closes after the file.
 */
export function suitePage(opts: Parameters<typeof launchBrowser>[0] = {}): { open(): Promise<{ browser: Browser; page: Page }> } {
  let browser: Browser | undefined;
  const errors: string[] = [];
  afterEach(() => {
    expect(errors.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    async open() {
      browser = await launchBrowser(opts);
      const page = await browser.newPage();
      page.setDefaultTimeout(20_000);
      page.on("pageerror", (e) => errors.push(e.message));
      return { browser, page };
    },
  };
}
