import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { CHROMIUM } from './code-server';

// Driving a VS Code workbench (code-server) in Debian's Chromium: shared by the end-to-end test
// (code-server on the host) and the container test (code-server inside the image).

/** Headless Chromium with nothing running in the background that could reach the network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/**
 * Runs a command from the command palette (F1), by its title. The palette can be taken away while it
 * opens (seen in CI: a notification or a webview taking focus left the input inert, then hidden): each
 * attempt that does not reach the command's row closes whatever is open and starts again.
 */
export async function palette(page: Page, command: string, attempts = 3): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const row = page.locator(`.quick-input-list .monaco-list-row.focused[aria-label*="${command}"]`);
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      // fill, not keystrokes: keys typed while the widget is still taking focus can be lost (seen in CI: the
      // list stayed unfiltered, 703 commands, the one wanted hidden); the '>' is the palette's command mode.
      await input.fill(`>${command}`, { timeout: 5_000 });
      await row.waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
      return;
    } catch (err) {
      if (attempt >= attempts)
        throw new Error(`the command palette did not run "${command}" in ${attempts} attempts: ${(err as Error).message}`);
      await page.keyboard.press('Escape');
      await page.waitForTimeout(500);
    }
  }
}

/** Accepts the quick pick's default item. */
export async function quickPickEnter(page: Page, title?: string): Promise<void> {
  await page.waitForSelector('.quick-input-widget', { state: 'visible' });
  // Two prompts in a row share one widget: wait for the one meant, or an Enter lands on the one before.
  if (title) await page.locator('.quick-input-widget .quick-input-title').filter({ hasText: title }).waitFor({ timeout: 15_000 });
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter');
}

/**
 * Types `text` into the quick pick titled `title` and accepts the item it filters to. The title is
 * waited for first: typed into the palette still closing, the text would search files instead (and
 * Enter open one). The unfiltered list may hold the item already: what is waited for is the focused
 * (first) row matching once the filter applied; a fill the widget dropped while redrawing is typed again.
 */
export async function quickPickChoose(page: Page, text: string, title: string): Promise<void> {
  await page.locator('.quick-input-widget .quick-input-title').filter({ hasText: title }).waitFor({ timeout: 15_000 });
  const input = page.locator('.quick-input-widget input');
  const row = page.locator(`.quick-input-list .monaco-list-row.focused[aria-label*="${text}"]`);
  for (let attempt = 1; ; attempt++) {
    await input.fill(text, { timeout: 5_000 }).catch(() => undefined);
    try {
      await row.waitFor({ timeout: 4_000 });
      break;
    } catch (err) {
      if (attempt >= 3) throw new Error(`the quick pick "${title}" shows no row for "${text}": ${(err as Error).message}`);
    }
  }
  await page.keyboard.press('Enter');
}

/** A view's pane in the side bar, by the view's name. */
export function view(page: Page, name: string): Locator {
  return page.locator('.pane').filter({ has: page.locator(`.pane-header[aria-label^="${name}"]`) });
}
