// Shared by the Playwright scenarios on the real workbench (test/e2e/ui*.mjs, scripts/e2e/shots-logs.mjs).

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The webview document holding `selector` (VS Code nests each webview in two iframes). */
export async function frameWith(page, selector, timeout) {
  const until = Date.now() + timeout;
  while (Date.now() < until) {
    for (const f of page.frames()) {
      // Frames come and go while the workbench lays out: a detached one is simply not the frame.
      const found = await f.$(selector).catch(() => null);
      if (found) return f;
    }
    await sleep(250);
  }
  throw new Error(`no webview with ${selector} within ${timeout} ms`);
}
