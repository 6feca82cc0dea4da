// Helpers to drive the vault screens like a patient would.
import assert from 'node:assert/strict';
import { appReady } from './harness.mjs';

export const PASSPHRASE = 'correct horse battery staple orbit';
export const NEW_PASSPHRASE = 'violet kettle mountain sings softly';

/** Creates a vault through the UI and returns its recovery key. Leaves it unlocked. */
export async function createVault(page, { name = 'E2E record', passphrase = PASSPHRASE } = {}) {
  await page.getByRole('heading', { name: /Create (your|another) vault/ }).waitFor();
  await page.getByLabel('Vault name').fill(name);
  await page.locator('#new-passphrase').fill(passphrase);
  await page.locator('#confirm-passphrase').fill(passphrase);
  await page.getByRole('button', { name: 'Create vault' }).click();
  await page.getByRole('heading', { name: 'Save your recovery key' }).waitFor({ timeout: 30000 });
  const recoveryKey = (await page.locator('#recovery-key-display').textContent()).trim();
  assert.match(recoveryKey, /^[0-9A-Z]{4}(-[0-9A-Z]{4})+$/);
  await page.locator('#recovery-key-confirm').fill(recoveryKey.toLowerCase().replaceAll('-', ' '));
  await page.getByRole('button', { name: /I have saved it/ }).click();
  await waitUnlocked(page);
  return recoveryKey;
}

export async function waitUnlocked(page) {
  await page.locator('#lock-button').waitFor({ timeout: 30000 });
}

export async function unlock(page, secret, { recovery = false } = {}) {
  await page.getByRole('heading', { name: 'Unlock your health record' }).waitFor();
  if (recovery) {
    await page.getByRole('button', { name: 'Use my recovery key instead' }).click();
    await page.locator('#recovery-key').fill(secret);
  } else {
    await page.locator('#passphrase').fill(secret);
  }
  await page.getByRole('button', { name: 'Unlock' }).click();
}

export async function lock(page) {
  await page.locator('#lock-button').click();
  await page.getByRole('heading', { name: 'Unlock your health record' }).waitFor();
}

/** Opens the app on a fresh origin state (new browser context = empty storage). */
export async function freshApp(browser, openPage, url, opts) {
  const o = await openPage(browser, opts);
  await o.page.goto(url);
  await appReady(o.page);
  return o;
}

/**
 * Opens an item of the record by searching for it in the timeline (long lists are virtualised:
 * only rows near the viewport are in the page). `category` narrows the search (e.g. 'Problem').
 */
export async function openItem(page, appUrl, text, { category } = {}) {
  await page.goto(appUrl + '#/timeline');
  await page.locator('#timeline-count').waitFor();
  if (category) await page.locator('#timeline-category').selectOption({ label: category });
  await page.locator('#timeline-search').fill(text);
  await page.locator('#timeline-list .rows a', { hasText: text }).first().click();
  await page.locator('#item-title').waitFor();
}
