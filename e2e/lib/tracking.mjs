// Helpers to drive the tracking screen like a patient would.
import { appReady } from './harness.mjs';

/** Turns the idle lock off (the tests jump the clock by hours). Before a vault exists. */
export async function idleLockNever(page, appUrl) {
  await page.goto(appUrl + '#/settings');
  await appReady(page);
  await page.getByLabel(/^Never/).check();
  await page.goto(appUrl + '#/');
}

/** Opens the tracking screen. */
export async function openTracking(page, appUrl) {
  await page.goto(appUrl + '#/tracking');
  await page.locator('#tracking-title').waitFor();
}

/** Adds a medication with the given times (HH:MM). */
export async function addMedication(page, { name, amount = '1', unit = 'tablet', times }) {
  await page.locator('#add-medication').click();
  await page.locator('#med-name').fill(name);
  await page.locator('#med-amount').fill(amount);
  await page.locator('#med-unit').selectOption(unit);
  for (let i = 0; i < times.length; i++) {
    if (i > 0) await page.locator('#med-add-time').click();
    await page.locator('.med-time').nth(i).fill(times[i]);
  }
  await page.locator('#med-save').click();
  await page.locator('#app-notice').getByText(`${name} was added.`).waitFor();
}

/** The card of a medication by name. */
export function medCard(page, name) {
  return page.locator('li.med', { has: page.getByRole('heading', { name, exact: true }) });
}

/** A dose row of the "Today's doses" (or "not logged") list: by medication and time. */
export function doseRow(scope, name, time) {
  // Inner locators of `has` are relative to the row: build them from the page.
  const page = typeof scope.page === 'function' ? scope.page() : scope;
  return scope.locator('li.dose', { has: page.locator('.dose-time', { hasText: time }) })
    .filter({ has: page.locator('.dose-name', { hasText: name }) });
}

/**
 * Sets the page's clock to half a minute before an instant (ISO text), then lets that half
 * minute pass so its timers fire once and the screen re-reads the time. Absolute times keep the test's real running time
 * out of the clock.
 */
export async function at(page, iso) {
  await page.clock.setSystemTime(new Date(Date.parse(iso) - 31 * 1000));
  await page.clock.fastForward(31 * 1000);
}
