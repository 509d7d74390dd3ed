// An organisation starts using Nabo, in a real browser (Debian's chromium, playwright-core):
//
//   node onboarding.mjs activate <base> <activation-url> <username> <password>
//   node onboarding.mjs manage   <base> <username> <password>
//   node onboarding.mjs disable  <base> <username> <password> <volunteer-page>
//   node onboarding.mjs oidc     <base> <tenant>
//
// `activate`: the administrator opens the link from the command line, is refused a short
// password, chooses a good one, signs in, creates a housing area, a 2019–26 programme, a
// lektiecafé and a retired summer camp, a staff member and a volunteer at the lektiecafé,
// records the volunteer's børneattest, and invites the volunteer's phone (prints the one-time
// code). `manage`: after the phone's roll call, the area is edited, the retired activity is
// archived (after a page that asks first) and the report of the period shows the roll call. `disable`: the volunteer is disabled,
// after a page that asks first. `oidc`: a staff member signs in through the organisation's
// identity provider. Prints one JSON line.

import { chromium } from 'playwright-core';

const [, , phase, base, ...args] = process.argv;
const out = { phase };

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const page = await (await browser.newContext({ locale: 'da-DK' })).newPage();
const text = async (sel) => (await page.locator(sel).first().textContent()) ?? '';

async function login(user, password) {
  await page.goto(base + '/log-ind');
  await page.fill('#brugernavn', user);
  await page.fill('#adgangskode', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/log-ind')), page.click('button[type=submit]')]);
}

// Fills and sends the form posting to `action` (opening its <details>): `fill` maps field
// names to values (selects by value, checkboxes ticked by value, `true` ticks the first).
async function send(action, fill) {
  const f = page.locator(`form[action="${action}"]`).first();
  await f.evaluate((el) => { const d = el.closest('details'); if (d) d.open = true; });
  for (const [name, value] of Object.entries(fill)) {
    const el = f.locator(`[name="${name}"]`).first();
    const kind = await el.evaluate((e) => (e.tagName === 'SELECT' ? 'select' : e.type));
    if (kind === 'select') await el.selectOption(value);
    else if (kind === 'checkbox' && value === true) await el.check();
    else if (kind === 'checkbox') await f.locator(`[name="${name}"][value="${value}"]`).check();
    else await el.fill(value);
  }
  await Promise.all([page.waitForNavigation(), f.locator('button[type=submit]').first().click()]);
}

const said = async () => (await text('.besked')).trim();

async function submit(label) {
  await Promise.all([page.waitForLoadState('load'), page.click(`button:text-is("${label}")`)]);
}

try {
  if (phase === 'activate') {
    const [link, user, password] = args;
    await page.goto(link);
    check((await text('h1')).includes('Vælg adgangskode'), 'the activation page');
    check((await text('main')).includes(user), 'the page names the login');
    await page.fill('#adgangskode', 'for kort');
    await page.fill('#gentag', 'for kort');
    await page.locator('#adgangskode').evaluate((e) => e.removeAttribute('minlength'));
    await submit('Gem adgangskode');
    check((await text('.fejlbesked')).includes('mindst 15 tegn'), `a short password must be refused: ${await text('main')}`);
    await page.fill('#adgangskode', password);
    await page.fill('#gentag', password);
    await submit('Gem adgangskode');
    check((await text('.besked')).includes('aktiveret'), 'activated');
    await login(user, password);

    // The organisation's first housing area, programme and activities.
    await page.goto(base + '/administration');
    await send('/administration/omraader', { navn: 'Nordvestparken', ejerform: 'almen', beboere: '1800' });
    check((await said()).includes('Området «Nordvestparken» er oprettet.'), `area: ${await said()}`);
    await send('/administration/programmer', {
      navn: 'Helhedsplan Nordvest 2019–2026', fra: '2019-01-01', til: '2026-12-31',
      taksonomi: 'lbf-2019-2026', omraade: true, typologi: 'single-area', 'andel-lbf': '75', 'andel-kommune': '25',
    });
    check((await said()).includes('Programmet «Helhedsplan Nordvest 2019–2026» er oprettet.'), `programme: ${await said()}`);
    for (const navn of ['Lektiecaféen i Nordvesthuset', 'Sommerlejr 2025']) {
      await page.goto(base + '/administration');
      await send('/administration/aktiviteter', { navn, type: 'lbf-2019-2026|BE.lektiecafe', registrering: 'pseudonymous' });
      check((await said()).includes(`Aktiviteten «${navn}» er oprettet.`), `activity: ${await said()}`);
    }

    // A staff member.
    await page.goto(base + '/personer');
    await page.click('a:text-is("Opret medarbejder")');
    await page.fill('#navn', 'Ole Olsen');
    await page.fill('#stilling', 'Boligsocial medarbejder');
    await page.selectOption('#rolle', 'outreach');
    await page.fill('#email', 'ole@nordvest.example');
    await submit('Opret medarbejder');
    check((await text('.besked')).includes('Brugeren er oprettet'), `staff created: ${await text('main')}`);

    // A volunteer, invited.
    await page.goto(base + '/personer');
    await page.click('a:text-is("Opret frivillig")');
    await page.fill('#navn', 'Vera Vestergaard');
    await page.fill('#telefon', '20 30 40 50');
    await page.check('label:has-text("Lektiecaféen i Nordvesthuset") input[name=aktivitet]');
    await submit('Opret frivillig');
    check((await text('.besked')).includes('Den frivillige er oprettet'), 'volunteer created');
    check((await text('h1')).includes('Vera Vestergaard'), 'the volunteer page shows the name');
    out.volunteer = new URL(page.url()).pathname;
    // Her børneattest (the form that exists on the management page).
    await page.goto(base + '/administration');
    await send('/administration/boerneattest', {});
    await page.goto(base + '/administration#frivillige');
    check((await text('#frivillige')).includes('Gyldig'), `the certificate: ${await text('#frivillige')}`);
    await page.goto(base + out.volunteer);
    await submit('Invitér telefon (engangskode)');
    out.code = (await text('#engangskode')).trim();
    check(await page.locator('figure.qr svg').count() === 1, 'the QR code');
    await page.goto(base + '/personer');
    check((await text('main')).includes('Ole Olsen') && (await text('main')).includes('Vera Vestergaard'), 'both on the list');
  } else if (phase === 'manage') {
    const [user, password] = args;
    await login(user, password);
    // The area is edited.
    await page.goto(base + '/administration');
    await page.click('a[aria-label="Redigér Nordvestparken"]');
    await page.fill('input[name=navn]', 'Nordvestparken og Lunden');
    await page.fill('input[name=beboere]', '2100');
    await Promise.all([page.waitForNavigation(), page.click('button:text-is("Gem")')]);
    check((await said()).includes('Området «Nordvestparken og Lunden» er gemt.'), `area edited: ${await said()}`);
    // The retired activity is archived, after a page that asks first.
    await page.click('a[aria-label="Redigér Sommerlejr 2025"]');
    await page.click('a:text-is("Arkivér …")');
    check((await text('h1')).includes('Arkivér Sommerlejr 2025?'), 'asks first');
    await Promise.all([page.waitForNavigation(), page.click('button:text-is("Arkivér Sommerlejr 2025")')]);
    check((await said()).includes('Aktiviteten «Sommerlejr 2025» er arkiveret.'), `archived: ${await said()}`);
    check(await page.locator('button:text-is("Fortryd (gendan)")').count() === 1, 'offers to undo');
    await page.goto(base + '/aktiviteter');
    const list = await text('main');
    check(list.includes('Lektiecaféen i Nordvesthuset') && !list.includes('Sommerlejr 2025'), `the list: ${list}`);
    // The report of the period: the phone's roll call, in the edited area.
    await page.goto(base + '/oversigt');
    const report = await text('main');
    check(report.includes('Landsbyggefonden 2019–2026Uddannelse og livschancerLektiecafé'), `the report counts the lektiecafé in its round: ${report}`);
    check(report.includes('Nordvestparken og Lunden'), 'the report offers the edited area');
    out.attendances = (await page.locator('ul.kort li', { hasText: 'Fremmøder' }).locator('.tal').textContent()).trim();
  } else if (phase === 'disable') {
    const [user, password, volunteer] = args;
    await login(user, password);
    await page.goto(base + volunteer);
    check((await text('#telefoner')).includes('Veras telefon'), 'the phone is on the volunteer page');
    await page.click('a:text-is("Spær brugeren …")');
    check((await text('.problem')).includes('tilmeldt telefon spærres'), 'asks first, naming the phone');
    await submit('Ja, spær brugeren');
    check((await text('.besked')).includes('Brugeren er spærret'), 'says what happened');
    check((await text('dl.fakta')).includes('Spærret'), 'the status');
  } else if (phase === 'oidc') {
    const [tenant] = args;
    await page.goto(`${base}/log-ind?lejer=${tenant}`);
    await page.click('#oidc');
    // The provider's own login form.
    await page.waitForSelector('#login');
    await page.fill('#login', 'anna');
    await page.fill('#password', 'test-password');
    await Promise.all([page.waitForURL((u) => u.pathname === '/oversigt', { timeout: 15000 }), page.click('button[type=submit]')]);
    out.user = (await text('.bruger')).trim();
  }
  out.ok = true;
} catch (e) {
  out.ok = false;
  out.error = String(e);
  out.url = page.url();
}
await browser.close();
console.log(JSON.stringify(out));
