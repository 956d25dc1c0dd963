/**
 * The status page in a real Chromium (Debian's /usr/bin/chromium, driven by playwright-core; no browser download):
 * loads, shows every mirror healthy, follows a failure live without a reload, drains through the button with the
 * token, renders hostile text as text, and leaves a screenshot in test-output/ (and in docs/ with FLOTILLA_UPDATE_DOCS=1).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ensurePackages } from '../support/ensure-packages.ts';
import { fleetFixture } from '../support/fleet-fixture.ts';
import { REPO } from '../support/run-cli.ts';
import { allUp, startHarness, waitFor, type Harness } from './harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const EVIL = '<img src=x onerror=alert(1)>';
const [A, B, C] = ['aws-eu-central-1', 'hcloud-fsn1', 'ssh-office'];

describe('status page in Chromium', () => {
  let h: Harness;
  let ctx: BrowserContext;
  let page: Page;
  let profile: string;
  const dialogs: { type: string; message: string }[] = [];
  const pageErrors: string[] = [];
  const tokenAnswers: string[] = [];
  let navigations = 0;

  before(async () => {
    ensurePackages({ [CHROMIUM]: 'chromium' });
    const mirrors = fleetFixture({}, 3).mirrors.map((m, i) => ({ ...m, name: [A, B, C][i], provider: (['aws', 'hcloud', 'ssh'] as const)[i] }));
    h = await startHarness({ spec: { stack: 'prod', domain: 'example.org', alternateDomains: ['www.example.org'], mirrors } });
    await allUp(h);
    profile = mkdtempSync(join(tmpdir(), 'flotilla-chromium-'));
    ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 860 } });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });
    page.on('dialog', async (d) => {
      dialogs.push({ type: d.type(), message: d.message() });
      if (d.type() !== 'prompt') return d.dismiss();
      if (/API token/.test(d.message())) return d.accept(tokenAnswers.shift() ?? '');
      if (/Why drain/.test(d.message())) return d.accept('kernel upgrade');
      return d.dismiss();
    });
  });

  after(async () => {
    await ctx?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await h?.close();
  });

  const state = (name: string) => page.locator(`tr[data-mirror="${name}"]`).getAttribute('data-state');
  const cellText = (name: string, cls: string) => page.locator(`tr[data-mirror="${name}"] td.${cls}`).innerText();

  it('loads and shows every mirror healthy, live over /events', async () => {
    await page.goto(h.url + '/');
    await page.waitForFunction(() => document.getElementById('conn')?.textContent === 'live');
    for (const m of [A, B, C]) {
      assert.equal(await state(m), 'up');
      assert.equal(await cellText(m, 'health'), 'up');
    }
    assert.equal(await page.locator('#serving').innerText(), `${A}, ${B}, ${C}`);
    // what the provider serves now, and when it converged
    const values = await page.locator('tr[data-provider="memdns"] td.values').allInnerTexts();
    assert.ok(values.includes('127.0.0.11 127.0.0.12 127.0.0.13'), `A records shown: ${values.join(' | ')}`);
    await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42; });
    // updates (several a second) patch the page in place: a button under the pointer is not swapped out
    const button = await page.$(`button[data-action="drain"][data-mirror="${A}"]`);
    const streak = await cellText(A, 'streak');
    await page.waitForFunction(([n, before]) => document.querySelector(`tr[data-mirror="${n}"] td.streak`)?.textContent !== before, [A, streak] as const);
    assert.equal(await button!.evaluate((b) => b.isConnected), true, 'the same button element after updates');
  });

  it('a mirror that fails turns red without a reload', async () => {
    h.probe.fail(B, 'status 503 (expected 200)');
    await page.waitForFunction((n) => document.querySelector(`tr[data-mirror="${n}"]`)?.getAttribute('data-state') === 'down', B, { timeout: 5000 });
    assert.equal(await cellText(B, 'reason'), 'status 503 (expected 200)');
    assert.equal(await page.locator('#serving').innerText(), `${A}, ${C}`);
    const color = await page.locator(`tr[data-mirror="${B}"] td.health .pill`).evaluate((e) => getComputedStyle(e).color);
    assert.equal(color, 'rgb(180, 35, 24)', 'down is red');
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'same document: no reload');
    assert.doesNotMatch(await page.locator('body').innerText(), /null|undefined|NaN|\[object /, 'no placeholder junk rendered');
    assert.equal(navigations, 1);
  });

  it('drains with the button: asks for the token once, a wrong one is refused, then the page shows the drain', async () => {
    await page.fill('#author', 'ana');
    await page.locator('#author').dispatchEvent('change');
    tokenAnswers.push('wrong-token');
    await page.click(`button[data-action="drain"][data-mirror="${C}"]`);
    await page.waitForFunction(() => /refused \(401\)/.test(document.getElementById('message')?.textContent ?? ''));
    assert.deepEqual((await h.store.load()).overrides, [], 'a wrong token changes nothing');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('flotilla-token')), null, 'a refused token is forgotten');

    tokenAnswers.push(h.token!);
    await page.click(`button[data-action="drain"][data-mirror="${C}"]`);
    await page.waitForSelector(`button[data-action="undrain"][data-mirror="${C}"]`, { timeout: 5000 });
    assert.equal(await cellText(C, 'serving'), 'drained');
    assert.equal(await page.locator('#serving').innerText(), A);
    const row = page.locator('#overrides tbody tr').first();
    assert.match(await row.innerText(), new RegExp(`drain\\s+${C}\\s+kernel upgrade\\s+ana`));
    const stored = (await h.store.load()).overrides;
    assert.deepEqual(stored.map((o) => [o.mirror, o.reason, o.author]), [[C, 'kernel upgrade', 'ana']]);
    assert.ok(stored[0].expiresAt! - stored[0].createdAt === 3600_000, 'the default "drain for" of 1h');
    await waitFor('the provider to follow', () => h.driver.answer('example.org', 'A').join(' ') === '127.0.0.11');
    await page.waitForFunction(() => [...document.querySelectorAll('#audit td.msg')].some((td) => /drained ssh-office by ana/.test(td.textContent ?? '')));
    assert.equal(dialogs.filter((d) => /API token/.test(d.message)).length, 2, 'asked once, and once more after the refusal');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('flotilla-token')), h.token, 'kept for the tab');

    mkdirSync(join(REPO, 'test-output'), { recursive: true });
    await page.screenshot({ path: join(REPO, 'test-output', 'status-page.png'), fullPage: true });
    // the README's picture is refreshed on request only, so a test run leaves the work tree clean
    if (process.env.FLOTILLA_UPDATE_DOCS === '1') {
      mkdirSync(join(REPO, 'docs'), { recursive: true });
      copyFileSync(join(REPO, 'test-output', 'status-page.png'), join(REPO, 'docs', 'status-page.png'));
    }
  });

  it('renders a hostile probe reason as text: no element, no script', async () => {
    h.probe.fail(A, EVIL);
    await page.waitForFunction((n) => document.querySelector(`tr[data-mirror="${n}"] td.reason`)?.textContent !== 'ok', A, { timeout: 5000 });
    assert.equal(await cellText(A, 'reason'), EVIL);
    await page.waitForFunction((n) => document.querySelector(`tr[data-mirror="${n}"]`)?.getAttribute('data-state') === 'down', A, { timeout: 5000 });
    await page.waitForFunction(() => [...document.querySelectorAll('#audit td.msg')].some((td) => (td.textContent ?? '').includes('<img src=x')));
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('#mirrors td.reason img, #audit img').count(), 0);
    assert.deepEqual(dialogs.filter((d) => d.type === 'alert'), [], 'no alert() ran');
    assert.deepEqual(pageErrors, []);
    assert.equal(navigations, 1, 'never reloaded');
  });
});
