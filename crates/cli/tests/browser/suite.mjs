// The S-Express web UI in headless Chromium, by clicking, as the people who use it:
//
//   a maintainer registers, chooses notifications and submits two changes (a realistic
//   install-hook stealer and a hostile one full of injection attempts and hidden characters)
//   and sees the automated assessment; the public sees only the sealed cases' public stubs;
//   expert ada finds them in her queue (title, project, subgroup, band, time left, claim),
//   claims one, releases it, claims it again and assesses both malicious; expert grace gives
//   the second review; the maintainer decides; the public then reads the published cases; the
//   admin creates a subgroup, adds and removes a member, disables and re-enables an account,
//   grants and revokes a role and reads the audit log.
//
// Every page on the way gets the same guards (no dialog, no console error, no request to any
// origin but the instance, no live injected markup), axe-core, and a laptop and a phone
// screenshot (where the diff shows findings inline, their boxes are measured against the
// diff at both sizes). Run by crates/cli/tests/e2e/browser.rs, which starts the instance and
// creates the admin, the experts and their subgroup with `s-express admin`; exits non-zero
// with every problem listed.

import {
  env, launch, person, open, clickAndWait, inspect, eventually, step, problem, problems, notes, findingBoxes, StepFailed,
} from './lib.mjs';
import { journeyChange, hostileChange, hostileConcern, PAYLOADS, HIDDEN } from './changes.mjs';

const LIMIT_MS = 200_000;
const started = Date.now();
const watchdog = setTimeout(() => {
  console.log(`the suite did not finish within ${LIMIT_MS / 1000} s`);
  report();
  process.exit(2);
}, LIMIT_MS);

const MAINTAINER = 'mona';
const [EXPERT, REVIEWER] = env.experts;
const JOURNEY_CONCERN = 'A first-time contributor says "typo" but adds a postinstall script that talks to webhook.site.';

const browser = await launch();
try {
  await journey();
} catch (err) {
  if (!(err instanceof StepFailed)) {
    problem('suite', 'crash', (err && err.stack) || String(err));
  }
} finally {
  await browser.close().catch(() => {});
}
clearTimeout(watchdog);
report();
process.exit(problems.length === 0 ? 0 : 1);

function report() {
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (notes.length > 0) {
    console.log(`\naxe-core moderate or minor findings (reported, not failing): ${notes.length}`);
    for (const n of notes) console.log(`- ${n}`);
  } else {
    console.log('axe-core: no violation of any impact on any page');
  }
  if (problems.length === 0) {
    console.log(`browser suite: every step and page check passed in ${secs} s; screenshots in ${env.screenshots}`);
    return;
  }
  console.log(`\nbrowser suite: ${problems.length} problem(s) in ${secs} s; screenshots in ${env.screenshots}:`);
  for (const p of problems) {
    console.log(`- [${p.kind}] ${p.page}\n    ${String(p.detail).split('\n').join('\n    ')}`);
  }
}

async function login(who, handle) {
  const { page } = who;
  await open(page, '/login');
  await page.fill('#handle', handle);
  await page.fill('#password', env.password);
  await clickAndWait(page, page.getByRole('button', { name: 'Log in' }).last());
  const shown = await page.locator('header .account').innerText();
  if (!shown.includes(handle)) {
    throw new Error(`after logging in as ${handle} the header shows "${shown}": ${await page.innerText('main')}`);
  }
}

/** The journey; each step leaves the pages it shows inspected. */
async function journey() {
  const anon = await person(browser, 'anonymous');
  const maint = await person(browser, MAINTAINER);

  await step('anyone sees the home, login and register pages', async () => {
    await open(anon.page, '/');
    await inspect(anon.page, 'home-anonymous');
    await open(anon.page, '/login');
    await inspect(anon.page, 'login');
    await open(anon.page, '/register');
    await inspect(anon.page, 'register');
  });

  await step('a maintainer registers by clicking and is signed in', async () => {
    const { page } = maint;
    await open(page, '/');
    await clickAndWait(page, page.locator('header').getByRole('link', { name: 'Register' }));
    await page.fill('#handle', MAINTAINER);
    await page.fill('#password', env.password);
    await page.fill('#password_again', env.password);
    await clickAndWait(page, page.getByRole('button', { name: 'Create account' }));
    const shown = await page.locator('header .account').innerText();
    if (!shown.includes(MAINTAINER)) throw new Error(`not signed in after registering: header shows "${shown}"`);
  });

  await step('the maintainer sees the submit form and their settings', async () => {
    await open(maint.page, '/submit');
    await inspect(maint.page, 'submit');
    await open(maint.page, '/settings');
    await inspect(maint.page, 'settings');
  });

  await step('the maintainer chooses e-mail and a webhook for two events and sees the secret once', async () => {
    const { page } = maint;
    await open(page, '/settings');
    const form = page.locator('#notifications-form');
    await form.locator('#notify-email').fill('mona@example.org');
    await form.locator('#notify-webhook').fill('https://hooks.example.org/s-express');
    for (const box of await form.locator('input[name="event"]').all()) {
      const want = ['assessed', 'published'].includes(await box.getAttribute('value'));
      if ((await box.isChecked()) !== want) await box.click();
    }
    await clickAndWait(page, form.getByRole('button', { name: 'Save notification preferences' }));
    const secret = (await page.locator('#new-webhook-secret code').innerText()).trim();
    if (!secret.startsWith('whsec_')) throw new Error(`no webhook secret shown after saving: ${await page.innerText('main')}`);
    await inspect(page, 'settings-webhook-secret');
    await open(page, '/settings');
    if ((await page.locator('#new-webhook-secret').count()) !== 0) throw new Error('the webhook secret is shown twice');
    const checked = await page.locator('#notifications-form input[name="event"]:checked').evaluateAll((els) => els.map((e) => e.value));
    if (checked.join(',') !== 'assessed,published') throw new Error(`saved events are ${checked.join(',')}`);
    if ((await page.inputValue('#notify-email')) !== 'mona@example.org') throw new Error('the e-mail address was not kept');
    // The API's own checks apply: a private address is refused, with the reason on the page.
    await page.fill('#notify-webhook', 'http://127.0.0.1:9/hook');
    maint.expectStatus = 422;
    const [response] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.locator('#notifications-form').getByRole('button', { name: 'Save notification preferences' }).click(),
    ]);
    maint.expectStatus = undefined;
    if (response.status() !== 422) throw new Error(`a private webhook address answered ${response.status()}`);
    const error = await page.locator('#form-error').innerText();
    if (!/private|loopback/.test(error)) throw new Error(`the refusal does not say why: "${error}"`);
  });

  await step('the maintainer makes an e-mail intake address, sees it once and removes it', async () => {
    const { page } = maint;
    await open(page, '/settings');
    // The notification address saved above is the only sender the intake accepts.
    if ((await page.locator('#mail-intake-no-sender').count()) !== 0) throw new Error('the intake section asks for a notification address that is set');
    await clickAndWait(page, page.locator('#mail-intake').getByRole('button', { name: 'Make a new address' }));
    const address = (await page.locator('#new-mail-intake code').innerText()).trim();
    if (!/^submit\+[a-z2-7]{32}@intake\.example\.invalid$/.test(address)) throw new Error(`no intake address shown: ${await page.innerText('main')}`);
    await inspect(page, 'settings-mail-intake');
    await open(page, '/settings');
    if ((await page.locator('#new-mail-intake').count()) !== 0 || (await page.content()).includes(address)) throw new Error('the intake address is shown twice');
    const facts = await page.locator('#mail-intake-facts').innerText();
    if (!facts.includes('mona@example.org') || !facts.includes('never')) throw new Error(`the intake section says: ${facts}`);
    await clickAndWait(page, page.locator('#mail-intake').getByRole('button', { name: 'Remove the address' }));
    const notice = await page.locator('main [role="status"]').innerText();
    if (!notice.includes('intake address was removed')) throw new Error(`after removing: "${notice}"`);
    if ((await page.locator('#mail-intake-remove').count()) !== 0) throw new Error('the removed address is still offered for removal');
  });

  const journeyCase = await step('the maintainer submits a change and sees the automated assessment', async () =>
    submit(maint, { diff: journeyChange, concern: JOURNEY_CONCERN, suspicion: '4', name: 'left-pad' }));
  await step('the case page shows the risk, the findings inline and the TLP label', async () => {
    const { page } = maint;
    const text = await page.innerText('body');
    for (const want of ['TLP:AMBER+STRICT', 'webhook.site', 'scripts/postinstall.js']) {
      if (!text.includes(want)) throw new Error(`the case page lacks "${want}"`);
    }
    if ((await page.locator('.finding-box, tr.finding').count()) === 0) throw new Error('no finding is shown inline in the diff');
    await inspect(page, 'case-submitted');
    // The inline finding boxes were measured at both sizes; on the phone the diff is wider
    // than the screen, so the boxes were also measured with the diff scrolled sideways.
    const laptop = findingBoxes['case-submitted@1366'];
    const phone = findingBoxes['case-submitted@390'];
    if (!laptop || laptop.measured === 0 || !phone || phone.scrolled === 0) {
      throw new Error(`the finding boxes were not measured: laptop ${JSON.stringify(laptop)}, phone ${JSON.stringify(phone)}`);
    }
    console.log(`  finding boxes: ${laptop.measured} measurements at 1366 px, ${phone.measured} at 390 px (${phone.scrolled} boxes in a diff wider than the phone)`);
    // The README's picture: the top of the case page as the maintainer first sees it.
    await page.setViewportSize({ width: 1280, height: 1000 });
    await page.screenshot({ path: `${env.screenshots}/readme-case-page.png` });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  const hostileCase = await step('the maintainer submits the hostile change', async () =>
    submit(maint, { diff: hostileChange, concern: hostileConcern, suspicion: '5', name: 'trojan-source' }));
  await step('the hostile change is inert and its hidden characters visible to the maintainer', async () => {
    await hostile(maint.page, 'hostile-case-maintainer', { diff: true });
  });

  await step('the public sees only the public stub of each sealed case', async () => {
    for (const c of [journeyCase, hostileCase]) {
      const response = await open(anon.page, c);
      const html = await anon.page.content();
      for (const secret of ['webhook.site', 'postinstall', 'sx-path', 'sx-subject', 'sx-concern', 'invoice', 'Fix typo', 'left-pad', 'trojan-source', MAINTAINER, JOURNEY_CONCERN.slice(0, 30)]) {
        if (html.includes(secret)) throw new Error(`the sealed case ${c} shows "${secret}" to the public (HTTP ${response.status()})`);
      }
      if ((await anon.page.locator('#sealed-stub').count()) !== 1) throw new Error(`${c} is not the public stub:\n${await anon.page.innerText('main')}`);
      const facts = await anon.page.locator('#stub-facts').innerText();
      for (const want of ['sealed', 'Publishes', 'JavaScript and npm']) {
        if (!facts.includes(want)) throw new Error(`the stub of ${c} lacks "${want}": ${facts}`);
      }
    }
    await inspect(anon.page, 'case-sealed-anonymous');
    await open(anon.page, '/cases');
    for (const c of [journeyCase, hostileCase]) {
      if (await anon.page.locator(`a[href="${c}"]`).count()) throw new Error(`/cases lists the sealed case ${c}`);
    }
  });

  const ada = await person(browser, EXPERT);
  await step(`expert ${EXPERT} logs in and finds both cases in the queue`, async () => {
    await login(ada, EXPERT);
    await open(ada.page, '/queue');
    for (const c of [journeyCase, hostileCase]) {
      if ((await ada.page.locator(`a[href="${c}"]`).count()) === 0) {
        throw new Error(`the queue has no link to ${c}:\n${await ada.page.innerText('main')}`);
      }
    }
    // Each row: title, project, subgroup, risk band, time left and claim status.
    const row = ada.page.locator('#queue tbody tr').filter({ has: ada.page.locator(`a[href="${journeyCase}"]`) });
    // (innerText is as shown: badges are upper case.)
    const text = (await row.innerText()).toLowerCase();
    for (const want of ['Fix typo in README', `${MAINTAINER}/left-pad`, 'JavaScript and npm', 'left', 'unclaimed']) {
      if (!text.includes(want.toLowerCase())) throw new Error(`the queue row of the journey case lacks "${want}": ${text}`);
    }
    if ((await row.locator('.band-high, .band-review, .band-low').count()) !== 1) throw new Error(`the queue row shows no risk band: ${text}`);
    await hostile(ada.page, 'queue', {});
    await inspect(ada.page, 'queue');
  });

  await step(`${EXPERT} claims the hostile case, releases the claim, and it is back in the queue`, async () => {
    const { page } = ada;
    await open(page, hostileCase);
    await clickAndWait(page, page.getByRole('button', { name: /^claim/i }));
    if ((await page.locator('#release-form').count()) !== 1) throw new Error('no "Release claim" button for the claiming expert');
    await inspect(page, 'case-claimed-release-offered');
    await clickAndWait(page, page.getByRole('button', { name: 'Release claim' }));
    if (!(await page.locator('#notice').innerText()).includes('released')) throw new Error('no notice after releasing');
    if ((await page.locator('#release-form').count()) !== 0) throw new Error('"Release claim" is still offered after releasing');
    if ((await page.getByRole('button', { name: /^claim/i }).count()) !== 1) throw new Error('the case cannot be claimed again');
    await open(page, '/queue');
    const row = page.locator('#queue tbody tr').filter({ has: page.locator(`a[href="${hostileCase}"]`) });
    if (!(await row.innerText()).toLowerCase().includes('unclaimed')) throw new Error(`the released case is not unclaimed in the queue: ${await row.innerText()}`);
  });

  for (const [c, label] of [[journeyCase, 'journey'], [hostileCase, 'hostile']]) {
    await step(`${EXPERT} claims the ${label} case from the queue and assesses it malicious`, async () => {
      const { page } = ada;
      await open(page, '/queue');
      await clickAndWait(page, page.locator(`a[href="${c}"]`).first());
      await clickAndWait(page, page.getByRole('button', { name: /^claim/i }));
      if (label === 'journey') await inspect(page, 'case-claimed-expert');
      await assess(page, 'malicious');
      const text = await page.innerText('main');
      if (!/malicious/i.test(text)) throw new Error('the page does not show the malicious verdict');
      if (label === 'hostile') await hostile(page, 'hostile-case-expert', { diff: true });
      else await inspect(page, 'case-assessed-expert');
    });
  }

  const grace = await person(browser, REVIEWER);
  await step(`expert ${REVIEWER} gives the second reviews`, async () => {
    await login(grace, REVIEWER);
    for (const c of [journeyCase, hostileCase]) {
      await open(grace.page, c);
      await secondReview(grace.page, 'malicious');
    }
    await inspect(grace.page, 'case-second-review');
  });

  await step('the maintainer decides; the cases are not public before publication', async () => {
    for (const c of [journeyCase, hostileCase]) {
      await open(maint.page, c);
      await decide(maint.page, 'rejected');
    }
    await inspect(maint.page, 'case-decided-maintainer');
  });

  await step('the public reads the published cases, on the list and on the home page', async () => {
    const { page } = anon;
    await open(page, journeyCase);
    await eventually(page, 'the case is published', async () => (await page.innerText('body')).includes('webhook.site'));
    if (!(await page.innerText('body')).includes('TLP:CLEAR')) throw new Error('the published case does not say TLP:CLEAR');
    await inspect(page, 'case-published');
    await open(page, hostileCase);
    await eventually(page, 'the hostile case is published', async () => (await page.locator('.hidden-char').count()) > 0);
    await hostile(page, 'hostile-case-published', { diff: true });
    await inspect(page, 'hostile-case-published');
    await open(page, '/cases');
    for (const c of [journeyCase, hostileCase]) {
      if ((await page.locator(`a[href="${c}"]`).count()) === 0) throw new Error(`/cases does not list ${c}`);
    }
    await hostile(page, 'cases-list', {});
    await inspect(page, 'cases-list');
    await open(page, '/');
    await hostile(page, 'home-published', {});
    await inspect(page, 'home-published');
    await open(page, '/log');
    await inspect(page, 'log');
  });

  const admin = await person(browser, env.admin);
  await step('the admin sees the admin page', async () => {
    await login(admin, env.admin);
    await open(admin.page, '/admin');
    await inspect(admin.page, 'admin');
  });

  await step('the admin creates a subgroup, adds and removes a member by clicking', async () => {
    const { page } = admin;
    await open(page, '/admin');
    await page.locator('#create-subgroup summary').click();
    const form = page.locator('#create-subgroup-form');
    await form.locator('#sg-slug').fill('python');
    await form.locator('#sg-name').fill('Python and PyPI');
    await form.locator('input[name="language"][value="python"]').check();
    await form.locator('input[name="vector"][value="install-hook"]').check();
    await clickAndWait(page, form.getByRole('button', { name: 'Create subgroup' }));
    if (!(await page.locator('#notice').innerText()).includes('subgroup was created')) throw new Error('no notice after creating the subgroup');
    const python = page.locator('#subgroups tbody tr').filter({ hasText: 'Python and PyPI' });
    if (!(await python.innerText()).includes('install-hook')) throw new Error(`the new subgroup's routing is not listed: ${await python.innerText()}`);
    const add = page.locator('#add-member-form');
    await add.locator('#member-subgroup').selectOption('python');
    await add.locator('#member-handle').fill(env.spare);
    await clickAndWait(page, add.getByRole('button', { name: 'Add member' }));
    const members = page.locator('#subgroups tbody tr').filter({ hasText: 'Python and PyPI' }).locator('ul.members');
    if (!(await members.innerText()).includes(env.spare)) throw new Error(`${env.spare} is not listed as a member`);
    await inspect(page, 'admin-member-added');
    await clickAndWait(page, page.getByRole('button', { name: `Remove ${env.spare} from Python and PyPI` }));
    if (!(await page.locator('#notice').innerText()).includes('removed')) throw new Error('no notice after removing');
    const after = await page.locator('#subgroups tbody tr').filter({ hasText: 'Python and PyPI' }).innerText();
    if (after.includes(env.spare)) throw new Error(`${env.spare} is still a member: ${after}`);
  });

  await step('the admin disables an account, which can then not log in, and enables it again', async () => {
    const { page } = admin;
    await open(page, `/admin?user=${env.spare}`);
    await clickAndWait(page, page.locator('#found-user-action').getByRole('button', { name: `Disable ${env.spare}` }));
    if (!(await page.locator('#found-user').innerText()).includes('disabled')) throw new Error('the account is not shown disabled');
    await inspect(page, 'admin-user-disabled');
    const spare = await person(browser, env.spare);
    await open(spare.page, '/login');
    await spare.page.fill('#handle', env.spare);
    await spare.page.fill('#password', env.password);
    spare.expectStatus = 401;
    await Promise.all([
      spare.page.waitForNavigation({ waitUntil: 'load' }),
      spare.page.getByRole('button', { name: 'Log in' }).last().click(),
    ]);
    spare.expectStatus = undefined;
    if ((await spare.page.locator('header .account').innerText()).includes(env.spare)) throw new Error('a disabled account logged in');
    await clickAndWait(page, page.locator('#found-user-action').getByRole('button', { name: `Enable ${env.spare}` }));
    if (!(await page.locator('#found-user').innerText()).includes('active')) throw new Error('the account is not shown active again');
    await login(spare, env.spare);
    await spare.context.close();
  });

  await step('the admin grants a role and revokes it, and reads both in the audit log', async () => {
    const { page } = admin;
    await open(page, `/admin?user=${env.spare}`);
    const grant = page.locator('#grant-role-form');
    await grant.locator('#grant-role').selectOption('coordinator');
    await clickAndWait(page, grant.getByRole('button', { name: 'Grant role' }));
    if (!(await page.locator('#notice').innerText()).includes('role was granted')) throw new Error('no notice after granting');
    if (!(await page.locator('#found-user').innerText()).includes('coordinator')) throw new Error('the granted role is not listed');
    const revoke = page.locator('#revoke-role-form');
    await revoke.locator('#revoke-role').selectOption('coordinator');
    await clickAndWait(page, revoke.getByRole('button', { name: 'Revoke role' }));
    if (!(await page.locator('#notice').innerText()).includes('role was revoked')) throw new Error('no notice after revoking');
    const rows = page.locator('#audit-log tbody tr');
    const [newest, before] = [await rows.nth(0).innerText(), await rows.nth(1).innerText()];
    if (!newest.includes('role-revoked') || !newest.includes(env.spare) || !newest.includes(env.admin)) throw new Error(`the newest audit record is not the revocation: ${newest}`);
    if (!before.includes('role-granted')) throw new Error(`the record before it is not the grant: ${before}`);
    if (!(await page.locator('#audit-log').innerText()).includes('cli/operator')) throw new Error('the setup by `s-express admin` is not in the audit log');
    await inspect(page, 'admin-audit-log');
  });
}

/** Submits a change through /submit; returns the case page's path. */
async function submit(who, { diff, concern, suspicion, name }) {
  const { page } = who;
  await open(page, '/submit');
  const form = page.locator('main form').filter({ has: page.locator('textarea') }).first();
  await form.locator('#project').fill(`${MAINTAINER}/${name}`);
  await form.locator('textarea[name="diff"]').fill(diff);
  await form.locator('textarea[name="concern"]').fill(concern);
  const level = form.locator(`input[name="suspicion"][value="${suspicion}"]`);
  if (await level.count()) await level.check();
  else await form.locator('[name="suspicion"]').selectOption(suspicion);
  await clickAndWait(page, form.getByRole('button', { name: /submit|forward|send/i }).last());
  const path = new URL(page.url()).pathname;
  if (!/^\/cases\/[0-9a-f-]{36}$/.test(path)) {
    throw new Error(`submitting led to ${page.url()}, not a case page:\n${(await page.innerText('main')).slice(0, 2000)}`);
  }
  await eventually(page, 'the automated assessment is shown', async () =>
    /\b(high|review|low)\b/i.test(await page.locator('main').innerText()) && (await page.locator('.band-high, .band-review, .band-low').count()) > 0);
  return path;
}

/** Fills and sends the assessment form on a case page. */
async function assess(page, verdict) {
  const form = page.locator('form[action$="/assess"]');
  await form.locator(`input[name="verdict"][value="${verdict}"]`).check();
  await form.locator('select[name="confidence"]').selectOption('high');
  await form.locator('input[name="time_spent_minutes"]').fill('25');
  await form.locator('[name="summary"]').fill('Install-time script sends the environment to a request catcher.');
  await form.locator('[name="rationale"]').fill('postinstall runs on every install; it base64-encodes process.env and POSTs it to webhook.site.');
  await clickAndWait(page, form.getByRole('button').last());
}

/** Sends the second-review form on a case page. */
async function secondReview(page, verdict) {
  const form = page.locator('form[action*="/second-reviews/"]');
  if ((await form.count()) === 0) {
    throw new Error(`no second-review form on ${page.url()}:\n${(await page.innerText('main')).slice(0, 2000)}`);
  }
  await form.locator(`input[name="verdict"][value="${verdict}"]`).check();
  const note = form.locator('[name="note"]');
  if (await note.count()) await note.fill('Agreed: the postinstall hook exfiltrates the environment.');
  await clickAndWait(page, form.getByRole('button').last());
}

/** Records the maintainer's decision on a case page. */
async function decide(page, outcome) {
  const form = page.locator('form[action$="/decide"]');
  if ((await form.count()) === 0) {
    throw new Error(`no decision form on ${page.url()}:\n${(await page.innerText('main')).slice(0, 2000)}`);
  }
  const details = page.locator('details').filter({ has: form });
  if ((await details.count()) && !(await details.first().evaluate((d) => d.open))) {
    await details.first().locator('summary').click();
  }
  const radio = form.locator(`input[name="outcome"][value="${outcome}"]`);
  if (await radio.count()) await radio.check();
  else await form.locator('[name="outcome"]').selectOption(outcome);
  const note = form.locator('[name="note"]');
  if (await note.count()) await note.fill('Closed the pull request and reported the account.');
  await clickAndWait(page, form.getByRole('button').last());
}

/**
 * The hostile case's content is shown as text: no raw hidden character reaches the screen,
 * each is drawn as a visible marker, and (where the diff is shown) the injection attempts
 * are displayed verbatim.
 */
async function hostile(page, name, { diff = false, title = true }) {
  const text = await page.evaluate(() => `${document.title}\n${document.body.innerText}`);
  for (const [ch, code] of Object.entries(HIDDEN)) {
    if (text.includes(ch)) problem(name, 'hidden character', `${code} reaches the screen raw instead of as a marker`);
  }
  const markers = await page.locator('.hidden-char').allInnerTexts();
  // Where the hostile subject is shown, its U+202E must be shown as a marker too.
  if (title && text.includes('Fix typo') && !markers.some((m) => m.includes('U+202E')) && !text.includes('U+202E')) {
    problem(name, 'hidden character', 'the title\'s U+202E is neither marked (.hidden-char) nor written out');
  }
  if (diff) {
    for (const code of Object.values(HIDDEN)) {
      if (!markers.some((m) => m.includes(code))) problem(name, 'hidden character', `no visible marker for ${code}`);
    }
    for (const p of PAYLOADS) {
      if (!text.includes(p)) problem(name, 'injection', `the line ${JSON.stringify(p)} is not shown as text`);
    }
    for (const p of ['alert("sx-subject")', 'alert("sx-body")', 'javascript:alert("sx-md-link")', 'alert("sx-concern")']) {
      if (!text.includes(p)) problem(name, 'injection', `the message or concern text ${JSON.stringify(p)} is not shown as text`);
    }
    if (!text.includes('<svg/onload=alert("sx-path")>')) problem(name, 'injection', 'the file name with markup is not shown as text');
  }
}
