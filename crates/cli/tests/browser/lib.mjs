// The browser harness shared by the suite: one headless Debian Chromium, one context per
// person, and on every page the same guards — nothing may open a dialog, log a console error
// or reach any origin but the instance — plus axe-core and a desktop and a phone screenshot.
//
// Every finding is collected, not thrown at once, so one run lists every problem of every page.

import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

/** Settings from the environment the cargo test sets (see crates/cli/tests/e2e/browser.rs). */
export const env = {
  base: must('SX_BASE_URL'),
  password: must('SX_PASSWORD'),
  admin: must('SX_ADMIN'),
  experts: must('SX_EXPERTS').split(','),
  spare: must('SX_SPARE_EXPERT'),
  screenshots: process.env.SX_SCREENSHOT_DIR || 'screenshots',
  chromium: process.env.SX_CHROMIUM || '/usr/bin/chromium',
};

function must(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set; run the suite through \`cargo test -p s-express --test e2e browser\``);
  }
  return value;
}

export const origin = new URL(env.base).origin;

/** Laptop and phone viewports every page is captured at. */
export const DESKTOP = { width: 1366, height: 768 };
export const PHONE = { width: 390, height: 844 };

/** Problems found so far: each `{ page, kind, detail }`. */
export const problems = [];

/** Findings reported without failing the suite (axe-core moderate and minor violations). */
export const notes = [];

export function problem(page, kind, detail) {
  problems.push({ page, kind, detail });
  console.log(`  PROBLEM [${kind}] ${page}: ${detail}`);
}

let stepCount = 0;

/** Runs one named step; a throw is recorded as a failure and stops the scenario. */
export async function step(name, fn) {
  stepCount += 1;
  const started = Date.now();
  try {
    const result = await fn();
    console.log(`ok ${stepCount} - ${name} (${Date.now() - started} ms)`);
    return result;
  } catch (err) {
    console.log(`not ok ${stepCount} - ${name}`);
    problem(name, 'step failed', (err && err.stack) || String(err));
    throw new StepFailed(name);
  }
}

export class StepFailed extends Error {}

/** The one browser: Debian's Chromium, headless, with a fresh temporary profile directory. */
export async function launch() {
  return chromium.launch({
    executablePath: env.chromium,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A new browser context (one person: own cookies) with the guards attached to every page it
 * opens. `label` names the person in problem reports.
 */
export async function person(browser, label) {
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB', timezoneId: 'UTC' });
  context.setDefaultTimeout(10_000);
  await context.route('**/*', (route) => {
    const url = route.request().url();
    let target;
    try {
      target = new URL(url).origin;
    } catch {
      target = url;
    }
    if (target === origin) {
      return route.continue();
    }
    problem(label, 'foreign request', `${route.request().method()} ${url}`);
    return route.abort('blockedbyclient');
  });
  const who = { context, label, expectStatus: undefined };
  context.on('page', (page) => guard(page, who));
  who.page = await context.newPage();
  return who;
}

function guard(page, who) {
  const { label } = who;
  page.on('dialog', async (dialog) => {
    problem(`${label} ${page.url()}`, 'dialog', `${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss().catch(() => {});
  });
  page.on('console', (msg) => {
    // Chromium logs a page answered with an error status; the step that expects it says so.
    const expected = who.expectStatus && msg.text().includes(`status of ${who.expectStatus}`);
    if (msg.type() === 'error' && !expected) {
      problem(`${label} ${page.url()}`, 'console error', msg.text());
    }
  });
  page.on('pageerror', (err) => {
    problem(`${label} ${page.url()}`, 'script error', String(err));
  });
  page.on('popup', (popup) => {
    problem(`${label} ${page.url()}`, 'popup', popup.url());
  });
}

/** Opens `path` and insists on a successful answer. */
export async function open(page, path) {
  const response = await page.goto(new URL(path, env.base).href, { waitUntil: 'load' });
  if (!response) {
    throw new Error(`no response for ${path}`);
  }
  if (response.status() >= 400) {
    throw new Error(`${path} answered ${response.status()}: ${(await page.textContent('body')) || ''}`.slice(0, 2000));
  }
  return response;
}

/** Submits the form `button` belongs to and waits for the page it leads to. */
export async function clickAndWait(page, button) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    button.click(),
  ]);
  if (response && response.status() >= 400) {
    throw new Error(`the form answered ${response.status()} at ${page.url()}: ${(await page.innerText('body')).slice(0, 2000)}`);
  }
  return response;
}

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page as it is. The script goes in through the DevTools protocol
 * (`page.evaluate`), which the page's Content-Security-Policy does not govern, so the policy
 * under test stays exactly as the server sent it.
 */
export async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} — ${n.failureSummary.replace(/\s+/g, ' ')}`),
      count: v.nodes.length,
    }));
  });
  for (const v of result) {
    const line = `${v.id} (${v.impact}, ${v.count}×): ${v.help}\n      ${v.nodes.join('\n      ')}`;
    if (v.impact === 'serious' || v.impact === 'critical') {
      problem(name, 'axe', line);
    } else {
      notes.push(`[axe ${v.impact}] ${name}: ${line}`);
      console.log(`  note [axe ${v.impact}] ${name}: ${v.id}: ${v.help}`);
    }
  }
}

/**
 * Measures every finding box shown inline in a diff against the diff's own scrolling box, at
 * the current viewport, with the diff scrolled fully left and fully right: a box must stay
 * inside the visible part of the diff (never overflow it, so its text is readable without
 * scrolling sideways), be as wide as that visible part (never narrower), and its row must span
 * the whole code (as wide as the longest line). Returns what it measured.
 */
export async function measureFindingBoxes(page, name, viewport) {
  const result = await page.evaluate(() => {
    const bad = [];
    let measured = 0;
    let scrolled = 0;
    for (const scroller of document.querySelectorAll('.diff-scroll')) {
      const boxes = [...scroller.querySelectorAll('tr.finding .finding-box')];
      if (boxes.length === 0) continue;
      const wide = scroller.scrollWidth > scroller.clientWidth + 1;
      if (wide) scrolled += boxes.length;
      for (const to of [0, scroller.scrollWidth]) {
        scroller.scrollLeft = to;
        const view = scroller.getBoundingClientRect();
        const left = view.left + scroller.clientLeft;
        const right = left + scroller.clientWidth;
        for (const box of boxes) {
          measured += 1;
          const r = box.getBoundingClientRect();
          const where = `${box.querySelector('code')?.textContent || 'finding'} (diff scrolled to ${Math.round(scroller.scrollLeft)}px)`;
          if (r.left < left - 1 || r.right > right + 1) {
            bad.push(`${where}: box spans ${Math.round(r.left)}..${Math.round(r.right)}px, outside the diff's visible ${Math.round(left)}..${Math.round(right)}px`);
          }
          if (r.width < scroller.clientWidth - 2) {
            bad.push(`${where}: box is ${Math.round(r.width)}px, narrower than the diff's ${scroller.clientWidth}px`);
          }
          const row = box.closest('td').getBoundingClientRect();
          const table = box.closest('table').getBoundingClientRect();
          if (row.width < table.width - 1) {
            bad.push(`${where}: the finding's row is ${Math.round(row.width)}px, narrower than the code's ${Math.round(table.width)}px`);
          }
        }
      }
      scroller.scrollLeft = 0;
    }
    return { bad, measured, scrolled };
  });
  for (const b of result.bad) problem(`${name} at ${viewport.width}px`, 'finding box', b);
  return result;
}

/** The last finding-box measurements per page name and viewport width. */
export const findingBoxes = {};

/**
 * Saves a full-page screenshot at the laptop and at the phone viewport, checks that the page
 * does not scroll sideways on the phone (wide diffs must scroll inside their own box), and
 * measures the inline finding boxes at both sizes.
 */
export async function screenshots(page, name) {
  mkdirSync(env.screenshots, { recursive: true });
  await page.setViewportSize(DESKTOP);
  findingBoxes[`${name}@${DESKTOP.width}`] = await measureFindingBoxes(page, name, DESKTOP);
  await page.screenshot({ path: join(env.screenshots, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  findingBoxes[`${name}@${PHONE.width}`] = await measureFindingBoxes(page, name, PHONE);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 2) {
    const culprits = await page.evaluate(() => {
      const width = window.innerWidth;
      return [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > width + 2)
        .filter((el) => !el.parentElement || el.parentElement.getBoundingClientRect().right <= width + 2)
        .slice(0, 5)
        .map((el) => `${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).split(' ').join('.') : ''}`);
    });
    problem(name, 'phone layout', `the page is ${overflow}px wider than a 390px phone screen; widest: ${culprits.join(', ')}`);
  }
  await page.screenshot({ path: join(env.screenshots, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

/**
 * The checks every page gets: no injected markup became live (no event-handler attributes,
 * no `javascript:` links, no inline or foreign scripts, no frames), then axe and screenshots.
 */
export async function inspect(page, name) {
  const live = await page.evaluate((instance) => {
    const found = [];
    for (const el of document.querySelectorAll('*')) {
      for (const attr of el.getAttributeNames()) {
        if (/^on/i.test(attr)) found.push(`<${el.tagName.toLowerCase()} ${attr}=…>`);
      }
    }
    for (const a of document.querySelectorAll('[href], [src], [action], [formaction]')) {
      for (const attr of ['href', 'src', 'action', 'formaction']) {
        const v = a.getAttribute(attr);
        if (v && /^\s*(javascript|data|vbscript):/i.test(v)) found.push(`${attr}="${v.slice(0, 60)}"`);
      }
    }
    for (const s of document.querySelectorAll('script')) {
      if (!s.src) found.push('inline <script>');
      else if (new URL(s.src).origin !== instance) found.push(`foreign script ${s.src}`);
    }
    for (const f of document.querySelectorAll('iframe, frame, object, embed')) {
      found.push(`<${f.tagName.toLowerCase()}>`);
    }
    return found;
  }, origin);
  for (const l of live) {
    problem(name, 'live markup', l);
  }
  await axe(page, name);
  await screenshots(page, name);
}

/** Polls `check` (reloading the page between tries) until it returns true or `ms` pass. */
export async function eventually(page, what, check, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      throw new Error(`${what}: still not so after ${ms / 1000} s at ${page.url()}:\n${(await page.innerText('body')).slice(0, 3000)}`);
    }
    await page.waitForTimeout(400);
    await page.reload({ waitUntil: 'load' });
  }
}
