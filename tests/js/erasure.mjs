// Erasing a child from the review pages in a real browser (Debian's chromium, playwright-core).
//
//   node erasure.mjs <base> <password> <activity> <date-text> <child-name>
//
// Central staff open the café session of <date-text>, see the child on the page and in the
// exported attendance list, erase the child after the confirmation (which names what goes
// and what stays as anonymous counts), and then find the name neither on the page nor in a
// new export, while the marks still count without a name. Prints one JSON line.

import fs from 'node:fs';
import { chromium } from 'playwright-core';

const [, , base, password, activity, dateText, name] = process.argv;
const out = {};

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({
  viewport: { width: 1280, height: 900 },
  acceptDownloads: true,
  locale: 'da-DK',
});
const page = await context.newPage();

async function text(selector) {
  return (await page.locator(selector).first().textContent()) ?? '';
}

async function download(selector) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  return fs.readFileSync(await d.path()).toString('utf8');
}

async function sessionPage() {
  await page.goto(base + '/aktiviteter');
  await page.click(`a:text-is("${activity}")`);
  await page.click(`a:text-is("${dateText}")`);
  check((await text('h1')).includes(dateText), `not the session page: ${page.url()}`);
}

// The first cell of each attendance row: the name (followed by the erasure link).
async function namesOnPage() {
  return page.locator('#fremmoede tbody th').evaluateAll((cells) =>
    cells.map((c) => c.textContent.replace(/\s*Slet personen$/, '').trim()));
}

try {
  await page.goto(base + '/log-ind');
  await page.fill('#brugernavn', 'central');
  await page.fill('#adgangskode', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/log-ind')), page.click('button[type=submit]')]);

  // Before: the child is on the page and in the exported list.
  await sessionPage();
  const before = await namesOnPage();
  check(before.includes(name), `${name} is not on the session page before: ${before}`);
  const csvBefore = await download('a:text-is("CSV")');
  check(csvBefore.split(/\r?\n/)[0].includes('Deltager;Aldersgruppe;Status'), `the list's header: ${csvBefore.slice(0, 80)}`);
  check(csvBefore.includes(name), `${name} is not in the exported list before`);
  out.before = before.length;

  // The confirmation says what goes and what stays, and erases nothing by itself.
  const row = page.locator('#fremmoede tbody tr', { has: page.locator(`th:has-text("${name}")`) });
  await Promise.all([page.waitForURL(/\/sletning\?emne=/), row.locator('a:text-is("Slet personen")').click()]);
  const confirm = await text('main');
  for (const t of [name, 'Det forsvinder', 'Det bliver (uden navn)', 'Slet personen permanent']) {
    check(confirm.includes(t), `the confirmation lacks «${t}»: ${confirm}`);
  }
  await page.selectOption('#aarsag', 'consent-withdrawn');
  await Promise.all([page.waitForNavigation(), page.click('button:text-is("Slet personen permanent")')]);
  const done = await text('main');
  check(done.includes('Personen er slettet'), `the erasure did not say it was done: ${done}`);
  check(!done.includes(name), 'the answer to the erasure names the person');

  // After: gone from the page and the export; the marks still count without a name.
  await sessionPage();
  const after = await namesOnPage();
  check(!after.includes(name), `${name} is still on the session page: ${after}`);
  check(!(await text('main')).includes(name), `${name} is still somewhere on the session page`);
  check(after.length === before.length - 1, `${before.length} names before, ${after.length} after`);
  check((await text('main')).includes('tælles med uden navn'), 'the erased child\'s mark no longer counts');
  const csvAfter = await download('a:text-is("CSV")');
  check(!csvAfter.includes(name), `${name} is still in the exported list`);
  check(csvAfter.split(/\r?\n/).filter((l) => l.trim()).length === csvBefore.split(/\r?\n/).filter((l) => l.trim()).length - 1,
    'the exported list did not lose exactly one row');
  await page.goto(base + '/gennemgang');
  check(!(await text('main')).includes(name), `${name} is still in the review queue`);
  out.after = after.length;
  console.log(JSON.stringify({ ok: true, ...out }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.message || e), url: page.url(), ...out }));
} finally {
  await browser.close();
}
