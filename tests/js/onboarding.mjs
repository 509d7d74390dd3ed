// An organisation starts using Nabo, in a real browser (Debian's chromium, playwright-core):
//
//   node onboarding.mjs activate <base> <activation-url> <username> <password>
//   node onboarding.mjs disable  <base> <username> <password> <volunteer-page>
//   node onboarding.mjs oidc     <base> <tenant>
//
// `activate`: the administrator opens the link from the command line, is refused a short
// password, chooses a good one, signs in, creates a staff member and a volunteer, and invites
// the volunteer's phone (prints the one-time code). `disable`: the volunteer is disabled,
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
    await submit('Opret frivillig');
    check((await text('.besked')).includes('Den frivillige er oprettet'), 'volunteer created');
    check((await text('h1')).includes('Vera Vestergaard'), 'the volunteer page shows the name');
    out.volunteer = new URL(page.url()).pathname;
    await submit('Invitér telefon (engangskode)');
    out.code = (await text('#engangskode')).trim();
    check(await page.locator('figure.qr svg').count() === 1, 'the QR code');
    await page.goto(base + '/personer');
    check((await text('main')).includes('Ole Olsen') && (await text('main')).includes('Vera Vestergaard'), 'both on the list');
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
