// The review pages in a real browser: Debian's chromium driven by playwright-core.
//
//   node web.mjs before <base> <password> <date-text>
//   node web.mjs after  <base> <password> <date-text> <names,marked,on,the,phone> <volunteer> [screenshots-dir]
//
// `before` runs before the phone syncs and reports what the office sees of today's session;
// `after` checks the phone's roll call is there and walks the central staff's work: flag the
// record, resolve a duplicate child and a conflicting mark, export CSV and XLSX and check
// their content against the page, open the goal report, invite a phone (QR code), the
// tablet layout, and the board's view with small numbers hidden. Prints one JSON line.

import fs from 'node:fs';
import { chromium } from 'playwright-core';

const [, , phase, base, password, dateText, marked, volunteer, shots] = process.argv;
// A demo child's name: it must never appear on the board's page.
const child = 'Aisha';
const out = { phase };

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

async function shot(name) {
  if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

async function text(selector) {
  return (await page.locator(selector).first().textContent()) ?? '';
}

// Signs in with the keyboard only: the username field has focus, Tab, Enter.
async function login(user) {
  await page.goto(base + '/log-ind');
  // The username field has focus when the page opens (autofocus).
  await page.waitForFunction(() => document.activeElement?.id === 'brugernavn', null, { timeout: 5000 });
  await page.keyboard.type(user);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/log-ind'), { timeout: 15000 }),
    page.keyboard.press('Enter'),
  ]);
}

// The row of today's session on the activity page, if any.
async function todaysRow() {
  await page.goto(base + '/aktiviteter');
  await page.click('a:text-is("Lektiecaféen i Beboerhuset")');
  const row = page.locator('tr', { has: page.locator(`a:text-is("${dateText}")`) });
  if ((await row.count()) === 0) return null;
  const cells = await row.first().locator('td').allTextContents();
  return { present: Number(cells[1]) };
}

async function download(selector) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  return fs.readFileSync(await d.path());
}

try {
  if (phase === 'before') {
    await page.goto(base + '/gennemgang');
    check(page.url().includes('/log-ind'), 'a page without a session must lead to the login');
    await page.fill('#brugernavn', 'central');
    await page.fill('#adgangskode', 'forkert-kode');
    await page.click('button[type=submit]');
    check((await text('.fejlbesked')).includes('Forkert'), 'a wrong password must say so');
    await login('central');
    check(page.url().endsWith('/oversigt') || page.url().includes('/oversigt?'), `after login: ${page.url()}`);
    out.today = await todaysRow();
  } else {
    await login('central');
    await shot('oversigt');

    // The phone's roll call, merged, with who marked it.
    const row = await todaysRow();
    check(row !== null, `today's session (${dateText}) is not on the activity page after sync`);
    out.today = row;
    await page.click(`a:text-is("${dateText}")`);
    // Columns: name, age band, status, marked by, time, device.
    const rows = await page.locator('#fremmoede tbody tr').evaluateAll((rs) =>
      rs.map((r) => [...r.querySelectorAll('th, td')].map((c) => c.textContent.trim())));
    const byVolunteer = rows.filter((c) => c[2] === 'til stede' && c[3].includes(volunteer));
    check(byVolunteer.every((c) => c[5].includes('Majas telefon')), `the marks do not name the phone: ${JSON.stringify(byVolunteer)}`);
    // The name cell also holds the erasure link (ADR 0019).
    const names = byVolunteer.map((c) => c[0].replace(/\s*Slet personen$/, '')).sort();
    const expected = marked.split(',').sort();
    check(JSON.stringify(names) === JSON.stringify(expected),
      `present marks by ${volunteer}: ${names}, the phone marked ${expected}`);
    check((await text('table.historik')).includes('registrerede fremmøde'), 'the history lacks the roll call');
    await shot('moede');

    // Flag it with a comment.
    const comment = 'Tjek om alle var med hele eftermiddagen';
    await page.fill('#kommentar', comment);
    await page.click('button:text-is("Marker til opfølgning")');
    check((await text('dl.fakta')).includes('Markeret'), 'the record does not show as flagged');
    check((await text('ul.log')).includes(comment), 'the review log lacks the comment');
    await page.goto(base + '/gennemgang');
    check((await text('section[aria-labelledby=markerede]')).includes(comment), 'the queue lacks the flagged record');

    // Resolve the duplicate child and the conflicting mark.
    await page.goto(base + '/oversigt');
    const uniqueBefore = Number((await text('.kort li:has-text("Unikke deltagere") .tal')).replace(/\./g, ''));
    await page.goto(base + '/gennemgang');
    await shot('gennemgang');
    check(await page.locator('form:has-text("Samme barn tilføjet flere gange")').count() === 1, 'no duplicate child to resolve');
    // Nothing is preselected (issue 12 item 7): staff choose whom to keep.
    await page.locator('form:has-text("Samme barn tilføjet flere gange") input[type=radio]').first().check();
    await page.click('form:has-text("Samme barn tilføjet flere gange") button:text-is("Læg sammen")');
    // Merging asks first (ADR 0022), then says what happened and offers to undo.
    check((await text('h1')).includes('Flet deltagerne?'), `merging must ask first: ${await text('main')}`);
    await Promise.all([page.waitForNavigation(), page.click('button:text-is("Flet")')]);
    check((await text('.besked')).includes('Deltagerne er flettet'), 'the merge says what happened');
    check(await page.locator('button:text-is("Fortryd fletningen")').count() === 1, 'the merge can be undone');
    check(await page.locator('form:has-text("Samme barn tilføjet flere gange")').count() === 0, 'the duplicate is still proposed after merging');
    const conflict = page.locator('form:has-text("Uenige registreringer")');
    check(await conflict.count() === 1, 'no conflicting mark to resolve');
    await conflict.locator('input[value=present]').check();
    await conflict.locator('button:text-is("Afgør")').click();
    await page.goto(base + '/gennemgang');
    check(await page.locator('form:has-text("Uenige registreringer")').count() === 0, 'the conflict is still listed');

    // The overview counts the merged child once; its CSV says the same as the page.
    await page.goto(base + '/oversigt');
    const unique = Number((await text('.kort li:has-text("Unikke deltagere") .tal')).replace(/\./g, ''));
    check(unique === uniqueBefore - 1, `unique participants ${uniqueBefore} → ${unique}, expected one fewer after the merge`);
    out.unique = unique;
    const csv = (await download('#deltagere-alder a:text-is("CSV")')).toString('utf8');
    check(csv.charCodeAt(0) === 0xfeff, 'the CSV lacks the BOM Excel needs');
    const lines = csv.slice(1).trim().split(/\r?\n/);
    check(lines[0] === 'Aldersgruppe;Unikke deltagere;Nye deltagere', `CSV header: ${lines[0]}`);
    const htmlRows = await page.locator('#deltagere-alder tbody tr').evaluateAll((rows) =>
      rows.map((r) => [...r.children].map((c) => c.textContent.trim().replace(/\./g, '')).join(';')));
    check(JSON.stringify(lines.slice(1)) === JSON.stringify(htmlRows), `CSV ${lines.slice(1)} ≠ page ${htmlRows}`);
    const csvSum = lines.slice(1).reduce((s, l) => s + Number(l.split(';')[1]), 0);
    check(csvSum === unique, `CSV unique participants ${csvSum} ≠ ${unique}`);
    out.csvRows = lines.length - 1;

    // The goal report, and its XLSX.
    await page.goto(base + '/rapporter/maalopfyldelse');
    const report = await text('#maal');
    check(report.includes('delvist opfyldt') && report.includes('De frivillige beboere er faldet fra'),
      'the report lacks the goal status and the reason code');
    const xlsx = await download('#maal a:text-is("Excel")');
    check(xlsx[0] === 0x50 && xlsx[1] === 0x4b && xlsx.length > 2000, 'the XLSX export is not a workbook');
    await shot('maalopfyldelse');
    await page.goto(base + '/rapporter/maalgrupper');
    check((await text('#maalgrupper')).includes('Børn og unge'), 'the target-group table lacks its rows');
    await shot('maalgrupper');

    // Inviting a phone: a one-time code, also as a QR code.
    await page.goto(base + '/administration');
    await page.click(`button[aria-label="Invitér ${volunteer}"]`);
    const code = (await text('#engangskode')).trim();
    check(/^[A-Z0-9-]{6,}$/.test(code), `enrolment code looks wrong: ${code}`);
    check(await page.locator('figure.qr svg').count() === 1, 'no QR code');
    out.code = code;
    await shot('invitation');
    await page.goto(base + '/administration');
    check((await text('#frivillige')).includes('Skal fornyes snart'), 'no børneattest renewal warning');
    await shot('administration');

    // Tablet width: nothing wider than the screen.
    await page.setViewportSize({ width: 768, height: 1024 });
    for (const p of ['/oversigt', '/gennemgang', '/rapporter/maalopfyldelse']) {
      await page.goto(base + p);
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      check(w <= 768, `${p} is ${w}px wide at tablet width`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });

    // The board member sees aggregates with small numbers hidden, and nothing else.
    await page.click('button:text-is("Log ud")');
    await login('bestyrelse');
    check(page.url().includes('/rapporter/bestyrelse'), `board member landed on ${page.url()}`);
    const board = await text('main');
    check(board.includes('skjult'), 'no suppressed count on the board view');
    check(!board.includes(child), 'a name appears on the board view');
    await shot('bestyrelse');
    const resp = await page.goto(base + '/oversigt');
    check(resp.status() === 403, `the board member may open the overview: ${resp.status()}`);
  }
  console.log(JSON.stringify({ ok: true, ...out }));
} catch (e) {
  if (shots) await page.screenshot({ path: `${shots}/fejl.png`, fullPage: true }).catch(() => {});
  console.log(JSON.stringify({ ok: false, error: String(e && e.message || e), url: page.url(), ...out }));
} finally {
  await browser.close();
}
