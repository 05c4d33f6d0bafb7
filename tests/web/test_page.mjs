// The page of `dermlens serve` in a real browser: Debian's chromium, headless, driven by
// playwright-core (no browser download).
// Usage: node test_page.mjs URL IMAGE POOR_IMAGE NOT_AN_IMAGE OUT_DIR
// Uploads IMAGE, waits for the result, checks the differential, the heat map and the image-quality
// gate's verdict with each failing check's reason (as the API answered them) are drawn; uploads
// POOR_IMAGE (too small to judge) and checks its rejection and reason are shown at phone width;
// uploads NOT_AN_IMAGE and checks the API's error is shown; screenshots (desktop and phone width)
// go to OUT_DIR. Exits 0 when every check passed, 1 with the failures on stderr.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [url, image, poorImage, notImage, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node test_page.mjs URL IMAGE POOR_IMAGE NOT_AN_IMAGE OUT_DIR');
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

// Submits the form and returns the API's JSON answer once the page has drawn the result.
async function diagnose() {
  const answered = page.waitForResponse((response) => response.url().endsWith('/v1/diagnose'), { timeout: 120000 });
  await page.click('#submit');
  const body = await (await answered).json();
  await page.waitForSelector('#result:not([hidden])', { timeout: 30000 });
  return body;
}

// The quality panel shows the API's verdict and the reason of every check that warned or rejected.
async function checkQualityShown(body, what) {
  const gate = body.quality;
  check(gate && ['pass', 'warn', 'reject'].includes(gate.overall), `${what}: the answer holds the quality gate's verdict`);
  if (!gate) return;
  check(await page.locator('#quality').isVisible(), `${what}: the quality verdict is visible`);
  const classes = await page.locator('#quality').getAttribute('class');
  check(classes.split(' ').includes(gate.overall), `${what}: the panel shows "${gate.overall}" (class "${classes}")`);
  const shown = await page.locator('#quality-reasons li').allInnerTexts();
  const failing = gate.checks.filter((c) => c.verdict !== 'pass');
  check(shown.length === failing.length, `${what}: one line per failing check (${shown.length} shown, ${failing.length} failing)`);
  for (const failed of failing) {
    check(shown.some((line) => line.includes(failed.reason)), `${what}: the reason "${failed.reason}" is shown`);
  }
}
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
  const answer = await diagnose();
  await checkQualityShown(answer, 'the lesion photo');
  // The shared lesion is 180 px: the gate must caution about its resolution.
  check(answer.quality && answer.quality.overall !== 'pass', 'the 180-px photo is not passed outright');
  check((await page.locator('#quality').innerText()).includes('low resolution'), 'the low-resolution caution is shown');
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

  // A photo too small to judge: the gate's rejection and its reason, at phone width.
  await page.setInputFiles('#image', poorImage);
  const poor = await diagnose();
  await checkQualityShown(poor, 'the tiny photo');
  check(poor.quality && poor.quality.overall === 'reject', 'the tiny photo is rejected by the gate');
  const poorText = await page.locator('#quality').innerText();
  check(/retake the photo/i.test(poorText) && poorText.includes('too low resolution to judge the lesion'),
        `the rejection and its reason are shown (got "${poorText}")`);
  const poorOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(poorOverflow <= 0, `the quality panel fits a phone's screen (overflow ${poorOverflow}px)`);
  await page.screenshot({ path: path.join(outDir, 'phone-quality.png'), fullPage: true });

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
