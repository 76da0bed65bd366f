// The functions passed to page.evaluate run in the page: they see the DOM.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { randomLoopbackBase, startStack, type Stack } from '@corral/devkit';
import { startQuietStack } from './helpers';

/**
 * The playground at GET / in headless Chromium (Debian's `chromium`, driven by puppeteer-core):
 * typed programs run with the keyboard, TypeScript, a share link, the tests tab, a phone's width.
 * CORRAL_UPDATE_SCREENSHOTS=1 writes docs/playground-desktop.png and docs/playground-phone.png.
 */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
if (!CHROMIUM && process.env['CI']) throw new Error('chromium is not installed (node tools/scripts/system.mjs test installs it)');
if (!CHROMIUM) console.warn('playground.test: skipped, chromium is not installed (node tools/scripts/system.mjs test installs it as root)');
const suite = CHROMIUM ? describe : describe.skip;
const DOCS = join(__dirname, '..', '..', '..', 'docs');

let stack: Stack;
let browser: Browser;
let profile: string;

suite('the playground in a browser', () => {
  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'corral-chromium-'));
    stack = await startQuietStack(2);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      // As root Chromium refuses its own sandbox; the page is ours. Nothing leaves loopback.
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** A new tab on `url` (the stack's playground by default), once the page says it is ready. */
  async function open(url = `${stack.url}/`, width = 1280, height = 800): Promise<Page> {
    const page = await browser.newPage();
    await page.setViewport({ width, height });
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="true"]');
    return page;
  }

  /** Replaces the editor's program by typing it, as a user would. */
  async function typeProgram(page: Page, code: string): Promise<void> {
    await page.click('.cm-content');
    await page.keyboard.down('Control');
    await page.keyboard.press('a');
    await page.keyboard.up('Control');
    await page.keyboard.press('Backspace');
    await page.keyboard.type(code);
    // Closes any completion popup, so that what was typed is what runs.
    await page.keyboard.press('Escape');
  }

  async function runWithKeyboard(page: Page): Promise<void> {
    await page.keyboard.down('Control');
    await page.keyboard.press('Enter');
    await page.keyboard.up('Control');
    await page.waitForFunction(() => !['ready', 'running…'].includes(document.getElementById('status')?.textContent ?? ''), { timeout: 30_000 });
  }

  /** Clicks Run and waits for the status the run must end with. */
  async function runWithButton(page: Page, status: string): Promise<void> {
    await page.click('#run');
    await page.waitForFunction((want) => document.getElementById('status')?.textContent === want, { timeout: 30_000 }, status);
  }

  const text = (page: Page, selector: string): Promise<string> => page.$eval(selector, (el) => el.textContent ?? '');
  const program = (page: Page): Promise<string> => page.$$eval('.cm-line', (lines) => lines.map((l) => l.textContent).join('\n'));

  it('runs a typed program with Ctrl-Enter and shows its output, status and figures', async () => {
    const page = await open();
    expect(await page.title()).toBe('corral playground');
    await typeProgram(page, 'console.log("typed " + 6 * 7); console.error("to stderr")');
    expect(await program(page)).toBe('console.log("typed " + 6 * 7); console.error("to stderr")');
    await runWithKeyboard(page);
    expect(await text(page, '#stdout')).toBe('typed 42\n');
    expect(await text(page, '#stderr')).toBe('to stderr\n');
    expect(await text(page, '#status')).toBe('ok (exit 0)');
    expect(await text(page, '#figures')).toMatch(/^[\d.]+ ms · CPU [\d.]+ ms · [\d.]+ MB$/);
    if (process.env['CORRAL_UPDATE_SCREENSHOTS'] === '1') await page.screenshot({ path: join(DOCS, 'playground-desktop.png') });
    await page.close();
  });

  it('shows output live: the first line is in the page while the status still says running', async () => {
    const page = await open();
    await typeProgram(page, 'console.log("first"); setTimeout(() => console.log("second"), 1500)');
    await page.click('#run');
    // Read together in the page, in one look: the first line is there and the run has not ended.
    const seen = await page.waitForFunction(
      () => {
        const out = document.getElementById('stdout')?.textContent ?? '';
        const state = document.getElementById('status')?.textContent ?? '';
        return out.length > 0 ? { out, state } : null;
      },
      { timeout: 30_000, polling: 'mutation' },
    );
    expect(await seen.jsonValue()).toEqual({ out: 'first\n', state: 'running…' });
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ok (exit 0)', { timeout: 30_000 });
    expect(await text(page, '#stdout')).toBe('first\nsecond\n');
    await page.close();
  });

  it('a failing program shows its status and exit code', async () => {
    const page = await open();
    await typeProgram(page, 'process.exit(3)');
    await runWithKeyboard(page);
    expect(await text(page, '#status')).toBe('error (exit 3)');
    await page.close();
  });

  it('runs TypeScript, with stdin', async () => {
    const page = await open();
    await page.select('#language', 'typescript');
    await typeProgram(page, 'const input: string = require("fs").readFileSync(0, "utf8"); console.log(input.toUpperCase())');
    await page.type('#stdin', 'shout');
    await page.focus('#stdin');
    await runWithKeyboard(page);
    expect(await text(page, '#stdout')).toBe('SHOUT\n');
    expect(await text(page, '#status')).toBe('ok (exit 0)');
    await page.close();
  });

  it('a share link gives the same program back', async () => {
    const page = await open();
    await page.select('#language', 'typescript');
    const code = 'const greeting: string = "héllo, ünicode ✓"; console.log(greeting)';
    await typeProgram(page, code);
    await page.type('#stdin', 'some input');
    await page.click('#share');
    const link = await page.$eval('#share-url', (el) => (el as HTMLInputElement).value);
    expect(link).toMatch(new RegExp(`^${stack.url}/#p=[A-Za-z0-9_-]+$`));
    await page.close();
    const again = await open(link);
    expect(await program(again)).toBe(code);
    expect(await again.$eval('#language', (el) => (el as HTMLSelectElement).value)).toBe('typescript');
    expect(await again.$eval('#stdin', (el) => (el as HTMLTextAreaElement).value)).toBe('some input');
    await runWithButton(again, 'ok (exit 0)');
    expect(await text(again, '#stdout')).toBe('héllo, ünicode ✓\n');
    await again.close();
  });

  it('the tests tab runs the cases and gives a verdict per case', async () => {
    const page = await open();
    await typeProgram(page, 'const [a, b] = require("fs").readFileSync(0, "utf8").split(" ").map(Number); console.log(a + b)');
    await page.click('#tab-tests');
    for (const [input, expected] of [['1 2', '3'], ['2 2', '5']]) {
      await page.click('#add-case');
      await page.type('.case:last-child .case-stdin', input as string);
      await page.type('.case:last-child .case-expected', expected as string);
    }
    await runWithKeyboard(page);
    expect(await text(page, '#status')).toBe('wrong_answer: 1/2 passed');
    const rows = await page.$$eval('#verdicts tbody tr', (trs) => trs.map((tr) => [...tr.children].slice(0, 2).map((td) => td.textContent)));
    expect(rows).toEqual([
      ['1', 'accepted'],
      ['2', 'wrong_answer'],
    ]);
    await page.close();
  });

  it('fits a phone: nothing wider than the screen', async () => {
    const page = await open(undefined, 390, 844);
    await typeProgram(page, 'console.log("on a phone")');
    await runWithKeyboard(page);
    expect(await text(page, '#stdout')).toBe('on a phone\n');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    if (process.env['CORRAL_UPDATE_SCREENSHOTS'] === '1') await page.screenshot({ path: join(DOCS, 'playground-phone.png'), fullPage: true });
    await page.close();
  });

  describe('with API keys on', () => {
    const KEY = 'playground-key-0123456789';
    let keyed: Stack;
    beforeAll(async () => {
      keyed = await startStack({ slots: 1, loopbackBase: randomLoopbackBase(), output: 'ignore', apiKey: KEY, env: { LOG_LEVEL: 'warn' } });
    }, 120_000);
    afterAll(async () => {
      await keyed?.stop();
    });

    it('shows a key field; without the key the page says unauthorized, with it the program runs', async () => {
      const page = await open(`${keyed.url}/`);
      expect(await page.$eval('#key-field', (el) => (el as HTMLElement).hidden)).toBe(false);
      await typeProgram(page, 'console.log("with a key")');
      await runWithKeyboard(page);
      expect(await text(page, '#status')).toBe('unauthorized');
      await page.type('#key', KEY);
      await runWithButton(page, 'ok (exit 0)');
      expect(await text(page, '#stdout')).toBe('with a key\n');
      await page.close();
    });
  });

  it('without API keys there is no key field', async () => {
    const page = await open();
    expect(await page.$eval('#key-field', (el) => (el as HTMLElement).hidden)).toBe(true);
    await page.close();
  });
});
