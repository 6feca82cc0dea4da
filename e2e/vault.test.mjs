// The encrypted vault in a real browser: create with a recovery key, lock and unlock, wrong
// secrets, idle lock, passphrase change, recovery key, backup round trip, several vaults.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, openPage, appReady, consoleErrors, APP_URL, axe, screenshot } from './lib/harness.mjs';
import { createVault, unlock, lock, waitUnlocked, freshApp, PASSPHRASE, NEW_PASSPHRASE } from './lib/vault.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('create a vault: weak passphrases are refused, the recovery key must be confirmed', async () => {
  const { ctx, page, log } = await freshApp(browser, openPage, APP_URL);
  await page.getByRole('heading', { name: 'Create your vault' }).waitFor();
  await page.locator('#new-passphrase').fill('password123');
  await page.locator('#passphrase-strength').getByText('Too weak').waitFor();
  await page.locator('#confirm-passphrase').fill('password123');
  await page.getByRole('button', { name: 'Create vault' }).click();
  await page.getByRole('alert').getByText(/stronger passphrase/).waitFor();
  // Nothing was stored for a refused passphrase.
  assert.equal(await page.evaluate(async () => (await indexedDB.databases()).length), 1);

  await page.locator('#new-passphrase').fill(PASSPHRASE);
  await page.locator('#confirm-passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Create vault' }).click();
  await page.getByRole('heading', { name: 'Save your recovery key' }).waitFor({ timeout: 30000 });
  await screenshot(page, 'vault-recovery-key');
  // A wrong confirmation is refused and nothing is stored until the key is confirmed.
  await page.locator('#recovery-key-confirm').fill('AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG');
  await page.getByRole('button', { name: /I have saved it/ }).click();
  await page.getByRole('alert').getByText(/not the recovery key/).waitFor();
  const stored = await page.evaluate(() => new Promise((res) => {
    const r = indexedDB.open('phr');
    r.onsuccess = () => { const tx = r.result.transaction('kv'); const q = tx.objectStore('kv').getAllKeys(); q.onsuccess = () => res(q.result.length); };
  }));
  assert.equal(stored, 0, 'no vault stored before the recovery key is confirmed');
  const key = (await page.locator('#recovery-key-display').textContent()).trim();
  await page.locator('#recovery-key-confirm').fill(key);
  await page.getByRole('button', { name: /I have saved it/ }).click();
  await waitUnlocked(page);
  assert.deepEqual(consoleErrors(log), []);
  await ctx.close();
});

test('lock, wrong passphrase, unlock; keys and record leave the page on lock', async () => {
  const { ctx, page, log } = await freshApp(browser, openPage, APP_URL);
  await createVault(page);
  await page.goto(APP_URL + '#/vault');
  await page.locator('#vault-info-name').getByText('E2E record').waitFor();
  await lock(page);
  assert.equal(await page.locator('#vault-info-name').count(), 0, 'vault data gone from the DOM');
  await page.getByText('You locked your vault.').waitFor();

  await unlock(page, 'not the right passphrase at all');
  await page.getByRole('alert').getByText(/does not open this vault/).waitFor({ timeout: 30000 });
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  assert.deepEqual(consoleErrors(log), []);
  const violations = await axe(page);
  assert.deepEqual(violations, []);
  await ctx.close();
});

test('the recovery key unlocks the vault and sets a new passphrase', async () => {
  const { ctx, page } = await freshApp(browser, openPage, APP_URL);
  const recoveryKey = await createVault(page);
  await lock(page);
  // A typo in the recovery key is reported as a typo.
  const typo = recoveryKey.slice(0, 3) + (recoveryKey[3] === 'A' ? 'B' : 'A') + recoveryKey.slice(4);
  await unlock(page, typo, { recovery: true });
  await page.getByRole('alert').getByText(/typo/).waitFor();
  await page.locator('#recovery-key').fill(recoveryKey);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await waitUnlocked(page);
  await page.goto(APP_URL + '#/vault');
  await page.locator('#set-new-passphrase').waitFor();
  await page.locator('#change-passphrase').fill(NEW_PASSPHRASE);
  await page.locator('#change-passphrase-confirm').fill(NEW_PASSPHRASE);
  await page.getByRole('button', { name: 'Change passphrase' }).click();
  await page.getByText('Your passphrase was changed').waitFor({ timeout: 30000 });
  await lock(page);
  await unlock(page, PASSPHRASE);
  await page.getByRole('alert').getByText(/does not open this vault/).waitFor({ timeout: 30000 });
  await unlock(page, NEW_PASSPHRASE);
  await waitUnlocked(page);
  await ctx.close();
});

test('the vault locks itself after the idle time', async () => {
  const { ctx, page } = await freshApp(browser, openPage, APP_URL);
  await page.clock.install();
  await page.reload();
  await appReady(page);
  await page.goto(APP_URL + '#/settings');
  await page.getByLabel('1 minute').check();
  await page.goto(APP_URL + '#/');
  await createVault(page);
  await page.clock.fastForward('00:50');
  assert.equal(await page.locator('#lock-button').count(), 1, 'still unlocked before the idle time');
  await page.clock.fastForward('00:20');
  await page.getByText(/locked after 1 minute without activity/).waitFor();
  assert.equal(await page.locator('#lock-button').count(), 0);
  await ctx.close();
});

test('an encrypted backup restores in another browser profile', async () => {
  const a = await freshApp(browser, openPage, APP_URL);
  await createVault(a.page, { name: 'Backup source' });
  await a.page.goto(APP_URL + '#/vault');
  const [download] = await Promise.all([
    a.page.waitForEvent('download'),
    a.page.locator('#download-backup').click(),
  ]);
  assert.match(download.suggestedFilename(), /^backup-source-\d{4}-\d{2}-\d{2}\.phrbackup$/);
  // Download artifacts die with their context: keep a copy for the second profile.
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'phr-backup-')), download.suggestedFilename());
  await download.saveAs(file);
  const bytes = readFileSync(file);
  assert.equal(bytes.subarray(0, 4).toString(), 'PHRB', 'a vault backup file');
  await a.ctx.close();

  const b = await freshApp(browser, openPage, APP_URL);
  await b.page.getByRole('button', { name: 'Restore from a backup file' }).click();
  await b.page.locator('#backup-file').setInputFiles(file);
  await b.page.locator('#backup-summary').getByText('Backup source').waitFor();
  await b.page.locator('#restore-passphrase').fill('wrong wrong wrong wrong');
  await b.page.getByRole('button', { name: 'Restore' }).click();
  await b.page.getByRole('alert').getByText(/does not open this vault/).waitFor({ timeout: 30000 });
  await b.page.locator('#restore-passphrase').fill(PASSPHRASE);
  await b.page.getByRole('button', { name: 'Restore' }).click();
  await waitUnlocked(b.page);
  await b.page.goto(APP_URL + '#/vault');
  await b.page.locator('#vault-info-name').getByText('Backup source').waitFor();
  await b.ctx.close();
});

test('several vaults in one browser, each chosen by name at unlock', async () => {
  const { ctx, page } = await freshApp(browser, openPage, APP_URL);
  await createVault(page, { name: 'Parent' });
  await lock(page);
  await page.getByRole('button', { name: 'Create another vault' }).click();
  await createVault(page, { name: 'Child', passphrase: NEW_PASSPHRASE });
  await lock(page);
  const options = await page.locator('#vault-select option').allTextContents();
  assert.deepEqual(options.sort(), ['Child', 'Parent']);
  await page.locator('#vault-select').selectOption({ label: 'Parent' });
  await unlock(page, NEW_PASSPHRASE);
  await page.getByRole('alert').getByText(/does not open this vault/).waitFor({ timeout: 30000 });
  await page.locator('#vault-select').selectOption({ label: 'Child' });
  await unlock(page, NEW_PASSPHRASE);
  await waitUnlocked(page);
  await page.goto(APP_URL + '#/vault');
  await page.locator('#vault-info-name').getByText('Child').waitFor();
  await ctx.close();
});
