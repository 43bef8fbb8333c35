import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';

// Chromium from the machine's Debian package, driven by playwright-core (no downloaded browsers).
// Each test file gets a fresh profile, and every request leaving 127.0.0.1 is refused and recorded:
// a page that needs the internet fails its test here instead of working only on a connected laptop.

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const artifactsDir = join(process.cwd(), 'test-artifacts', 'browser');

const flags = ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** URLs the page tried to reach outside 127.0.0.1 (each was aborted) */
  offMachineRequests: string[];
  /** uncaught errors and console errors of the page */
  pageErrors: string[];
  /** saves a full-page PNG under test-artifacts/browser/ and returns its path */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'crm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    chromiumSandbox: false, // CI runs as root, where Chromium's sandbox cannot start
    args: flags,
    viewport: { width: 1280, height: 800 },
  });
  const offMachineRequests: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || url.hostname === '127.0.0.1') return route.continue();
    offMachineRequests.push(url.href);
    return route.abort('blockedbyclient');
  });
  // a loaded CI machine (2 cores, several jobs) can take longer than Playwright's 30 s to lay out a page
  context.setDefaultTimeout(90_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  mkdirSync(artifactsDir, { recursive: true });
  return {
    context,
    page,
    offMachineRequests,
    pageErrors,
    async screenshot(name) {
      const path = join(artifactsDir, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
