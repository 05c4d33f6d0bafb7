// The page of `dermlens serve` in a real browser: Debian's chromium, headless, driven by
// playwright-core (no browser download). Usage: node test_page.mjs URL IMAGE NOT_AN_IMAGE OUT_DIR
// Uploads IMAGE, waits for the result, checks the differential and the heat map are drawn,
// uploads NOT_AN_IMAGE and checks the API's error is shown; screenshots (desktop and phone
// width) go to OUT_DIR. Exits 0 when every check passed, 1 with the failures on stderr.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [url, image, notImage, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node test_page.mjs URL IMAGE NOT_AN_IMAGE OUT_DIR');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dermlens-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.DERMLENS_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
});
const page = context.pages()[0] || await context.newPage();
const consoleErrors = [];
page.on('pageerror', (error) => consoleErrors.push(error.message));
try {
  await page.goto(url);
  check(await page.getByText('not a medical device').isVisible(), 'the research-use notice is visible');
  await page.waitForFunction(() => document.querySelectorAll('#strategy option').length > 0, null, { timeout: 30000 });

  // A real lesion photo: the result with its differential and heat map.
  await page.setInputFiles('#image', image);
  await page.fill('#labels', 'melanoma, nevus, basal cell carcinoma');
  await page.fill('#age', '54');
  await page.selectOption('#sex', 'female');
  await page.click('#submit');
  await page.waitForSelector('#result:not([hidden])', { timeout: 120000 });
  const rows = await page.locator('#differential tbody tr').count();
  check(rows === 3, `the differential has 3 rows (got ${rows})`);
  check(await page.locator('#differential .bar.fused').count() === 3, 'each row has a fused bar');
  check((await page.locator('#final').innerText()).trim().length > 0, 'the final diagnosis or abstention is shown');
  await page.waitForFunction(() => {
    const map = document.getElementById('heatmap');
    return map && map.complete && map.naturalWidth > 0;
  }, null, { timeout: 30000 });
  check(await page.locator('#heatmap').isVisible(), 'the heat map is drawn over the image');
  await page.fill('#opacity', '0.2');
  check(await page.locator('#heatmap').evaluate((map) => map.style.opacity) === '0.2', 'the opacity slider moves the heat map');
  await page.screenshot({ path: path.join(outDir, 'desktop.png'), fullPage: true });

  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `nothing wider than a phone's screen (overflow ${overflow}px)`);
  await page.screenshot({ path: path.join(outDir, 'phone.png'), fullPage: true });

  // Not an image: the API's error is shown as a message, not a blank page.
  await page.setInputFiles('#image', notImage);
  await page.click('#submit');
  await page.waitForSelector('#error:not([hidden])', { timeout: 60000 });
  const message = await page.locator('#error').innerText();
  check(/HTTP 400/.test(message) && message.includes(path.basename(notImage)), `the error names the upload (got "${message}")`);
  check(await page.locator('#result').isHidden(), 'no stale result beside the error');
  await page.screenshot({ path: path.join(outDir, 'phone-error.png'), fullPage: true });
  check(consoleErrors.length === 0, `no script errors (${consoleErrors.join('; ')})`);
} catch (error) {
  failures.push(`the page test stopped: ${error.message}`);
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
if (failures.length) {
  console.error(failures.map((failure) => `FAILED: ${failure}`).join('\n'));
  process.exit(1);
}
console.log(`page test passed; screenshots in ${outDir}`);
