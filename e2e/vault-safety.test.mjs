// What must never happen to the vault: plaintext in browser storage, a torn save, a lost record on a
// full disk, silent overwrites from a second tab, corrupted storage replaced by an empty vault.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, openPage, appReady, consoleErrors, APP_URL, ROOT } from './lib/harness.mjs';
import { createVault, freshApp, lock, unlock, waitUnlocked, PASSPHRASE } from './lib/vault.mjs';
import { syntheticBundle } from './lib/synth.mjs';
import { smallDiskContext } from './lib/smalldisk.mjs';

const FIXTURE = path.join(ROOT, 'e2e', 'fixtures', 'patient-bundle.json');
const CANARIES = ['ZZCANARY', 'Penicillin', 'Hypertension', 'Sam Rivera', 'Lisinopril', '+1-555-0100', PASSPHRASE];
const tmp = mkdtempSync(path.join(tmpdir(), 'phr-e2e-'));
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function importFile(page, file, expect = /new/) {
  await page.goto(APP_URL + '#/import');
  await page.locator('#fhir-file').setInputFiles(file);
  await page.locator('#file-import-report').getByText(expect).waitFor({ timeout: 120000 });
}

/** Everything the browser stores for the origin, as text (bytes decoded as Latin-1 to see plaintext). */
async function dumpStorage(page, ctx) {
  const inPage = await page.evaluate(async () => {
    const out = { local: JSON.stringify({ ...localStorage }), session: JSON.stringify({ ...sessionStorage }), idb: '', caches: '' };
    // A save stores a blob in two parts, [head, ciphertext]: arrays are walked, part by part.
    const latin1 = (v) => {
      if (v instanceof ArrayBuffer) v = new Uint8Array(v);
      if (ArrayBuffer.isView(v)) return new TextDecoder('latin1').decode(v);
      if (Array.isArray(v)) return v.map(latin1).join('');
      return JSON.stringify(v);
    };
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = rej; });
      for (const store of db.objectStoreNames) {
        const all = await new Promise((res) => {
          const tx = db.transaction(store); const s = tx.objectStore(store);
          const keys = s.getAllKeys(); const vals = s.getAll();
          tx.oncomplete = () => res([keys.result, vals.result]);
        });
        out.idb += all[0].map((k, i) => `${k}=${latin1(all[1][i])}`).join('\n');
      }
      db.close();
    }
    for (const name of await caches.keys()) {
      const c = await caches.open(name);
      for (const req of await c.keys()) out.caches += req.url + (await (await c.match(req)).text());
    }
    return out;
  });
  const cookies = JSON.stringify(await ctx.cookies());
  return { ...inPage, cookies };
}

test('canary scan: no plaintext health data or secret in any browser storage or the console', async () => {
  const { ctx, page, log } = await freshApp(browser, openPage, APP_URL);
  await createVault(page);
  await importFile(page, FIXTURE, '19 new');
  const big = path.join(tmp, 'canary.json');
  writeFileSync(big, syntheticBundle(500, { seed: 7, canary: 'ZZCANARY-SYNTH' }));
  await importFile(page, big, '500 new');
  // Use the app: every main screen, an item, a note, a search.
  for (const r of ['#/', '#/timeline', '#/record/problems', '#/charts', '#/vault']) {
    await page.goto(APP_URL + r);
    await page.locator('h1').first().waitFor();
  }
  await page.goto(APP_URL + '#/timeline');
  await page.locator('#timeline-search').fill('glucose');
  await page.goto(APP_URL + '#/record/problems');
  await page.locator('.rows a', { hasText: 'High blood pressure' }).click();
  await page.locator('#note-text').fill('ZZCANARY-MYNOTE about dizziness');
  await page.locator('#add-note').click();
  await page.getByText('Your note was saved.').waitFor();

  const whileOpen = await dumpStorage(page, ctx);
  assert.ok(whileOpen.idb.length > 100000, 'the record is stored');
  // The scan reads record blobs as bytes, also those a save stores in two parts [head, ciphertext].
  assert.match(whileOpen.idb, /\/seg\/res\.[^=]*=PHRS/, 'record segment blobs are scanned as bytes');
  await lock(page);
  await page.reload();
  await appReady(page);
  const afterLock = await dumpStorage(page, ctx);
  const consoleText = log.console.map((m) => m.text).join('\n') + log.errors.join('\n');
  for (const dump of [whileOpen, afterLock]) {
    for (const [where, text] of Object.entries({ ...dump, console: consoleText })) {
      for (const canary of CANARIES) {
        assert.ok(!text.includes(canary), `"${canary}" found in ${where}`);
      }
    }
  }
  // localStorage holds only display preferences and a save counter; sessionStorage nothing.
  const keys = Object.keys(JSON.parse(afterLock.local));
  assert.ok(keys.every((k) => k === 'phr.prefs.v1' || k.startsWith('phr.seen.')), keys.join(','));
  assert.deepEqual(JSON.parse(afterLock.session), {});
  assert.ok(!page.url().includes('ZZ'), 'nothing in the URL');
  await ctx.close();
});

test('crash during a large save: reopening gives the complete old or new state, never a mix', async () => {
  const file = path.join(tmp, 'large.json');
  // Below the import's part size (5,000), so the whole file is one save; a larger file is saved in
  // parts, each atomic, and importing it again adds the rest.
  const N = 4500;
  writeFileSync(file, syntheticBundle(N, { seed: 11 }));
  for (const delay of [0, 30, 120, 400]) {
    const { ctx, page } = await freshApp(browser, openPage, APP_URL);
    await createVault(page);
    await importFile(page, FIXTURE, '19 new');
    await page.goto(APP_URL + '#/import');
    await page.locator('#fhir-file').setInputFiles(file);
    await page.getByText('Adding the records to your vault').waitFor({ timeout: 120000 });
    if (delay) await page.waitForTimeout(delay);
    await page.close({ runBeforeUnload: false });
    const again = await ctx.newPage();
    await again.goto(APP_URL);
    await appReady(again);
    await unlock(again, PASSPHRASE);
    await waitUnlocked(again);
    await again.goto(APP_URL + '#/vault');
    const count = Number(await again.locator('#vault-info-count').textContent());
    assert.ok(count === 19 || count === 19 + N, `after closing at ${delay} ms: ${count} items (old is 19, new is ${19 + N})`);
    assert.equal(await again.locator('#app-notice').count(), 0, 'no damaged part');
    await ctx.close();
  }
});

test('a full disk: the save fails with how much space is needed, and the stored vault is intact', async () => {
  const disk = await smallDiskContext(48);
  try {
  const { page } = await openPage(browser, { context: disk.ctx });
  await page.goto(APP_URL);
  await appReady(page);
  await createVault(page);
  await importFile(page, FIXTURE, '19 new');
  const file = path.join(tmp, 'too-big.json');
  writeFileSync(file, syntheticBundle(80000, { seed: 5 }));
  await page.goto(APP_URL + '#/import');
  await page.locator('#fhir-file').setInputFiles(file);
  const alert = page.getByRole('alert').filter({ hasText: 'storage for this app is full' });
  await alert.waitFor({ timeout: 180000 });
  assert.match(await alert.textContent(), /About [\d.]+ (kB|MB) more space is needed/);
  assert.match(await alert.textContent(), /saved before is intact/);
  // A large file is saved in parts of 5,000: the parts saved before the disk filled are kept,
  // the failed part is not half-written, and the patient is told how many records made it.
  const kept = Number(/(\d+) of the file's 80000 records were saved/.exec(await alert.textContent())?.[1] ?? 0);
  assert.equal(kept % 5000, 0, `whole parts only: ${kept}`);
  assert.ok(kept < 80000);
  await lock(page);
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  await page.goto(APP_URL + '#/vault');
  assert.equal(await page.locator('#vault-info-count').textContent(), String(19 + kept), 'exactly what was saved, nothing lost');
  } finally {
    await disk.close();
  }
});

test('storage unavailable (e.g. a private window): a clear message, nothing else', async () => {
  const ctx = await browser.newContext();
  await ctx.addInitScript(() => {
    Object.defineProperty(window, 'indexedDB', { get() { throw new DOMException('The user denied permission to access the database.', 'SecurityError'); } });
  });
  const { page } = await openPage(browser, { context: ctx });
  await page.goto(APP_URL);
  await page.locator('#storage-unavailable').getByText(/private or incognito window/).waitFor();
  await ctx.close();
});

test('two tabs on one vault never silently overwrite each other', async () => {
  const { ctx, page } = await freshApp(browser, openPage, APP_URL);
  await createVault(page);
  await importFile(page, FIXTURE, '19 new');
  const second = await ctx.newPage();
  await second.goto(APP_URL);
  await appReady(second);
  await unlock(second, PASSPHRASE);
  await waitUnlocked(second);
  for (const [p, text] of [[page, 'Note from the first tab'], [second, 'Note from the second tab']]) {
    await p.goto(APP_URL + '#/record/problems');
    await p.locator('.rows a', { hasText: 'High blood pressure' }).click();
    await p.locator('#note-text').fill(text);
    await p.locator('#add-note').click();
  }
  await page.getByText('Your note was saved.').waitFor();
  await second.locator('#app-notice').getByText(/changed in another tab/).waitFor();
  // Reopening shows the first tab's note, not a mix.
  const third = await ctx.newPage();
  await third.goto(APP_URL);
  await appReady(third);
  await unlock(third, PASSPHRASE);
  await waitUnlocked(third);
  await third.goto(APP_URL + '#/record/problems');
  await third.locator('.rows a', { hasText: 'High blood pressure' }).click();
  await third.getByText('Note from the first tab').waitFor();
  assert.equal(await third.getByText('Note from the second tab').count(), 0);
  await ctx.close();
});

test('corrupted storage is reported, never replaced by an empty vault', async () => {
  const { ctx, page, log } = await freshApp(browser, openPage, APP_URL);
  await createVault(page, { name: 'Damaged' });
  await importFile(page, FIXTURE, '19 new');
  await lock(page);
  // Flip one byte of one stored record segment and break the header of nothing else.
  const flipped = await page.evaluate(async () => {
    const db = await new Promise((res) => { const r = indexedDB.open('phr'); r.onsuccess = () => res(r.result); });
    const keys = await new Promise((res) => { const q = db.transaction('kv').objectStore('kv').getAllKeys(); q.onsuccess = () => res(q.result); });
    const key = keys.find((k) => k.includes('/seg/res.'));
    const value = await new Promise((res) => { const q = db.transaction('kv').objectStore('kv').get(key); q.onsuccess = () => res(q.result); });
    // A saved blob is stored as [head, ciphertext]: flip a byte inside the ciphertext.
    const bytes = Array.isArray(value) ? value[1] : new Uint8Array(value);
    bytes[bytes.length - 5] ^= 1;
    await new Promise((res) => { const tx = db.transaction('kv', 'readwrite'); tx.objectStore('kv').put(value, key); tx.oncomplete = res; });
    db.close();
    return key;
  });
  assert.ok(flipped, 'found a record segment to damage');
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  await page.locator('#app-notice').getByText(/could not be read/).waitFor();
  // Now damage the header itself: the vault is listed as unreadable and nothing offers to overwrite it.
  await lock(page);
  await page.evaluate(async () => {
    const db = await new Promise((res) => { const r = indexedDB.open('phr'); r.onsuccess = () => res(r.result); });
    const keys = await new Promise((res) => { const q = db.transaction('kv').objectStore('kv').getAllKeys(); q.onsuccess = () => res(q.result); });
    const key = keys.find((k) => k.endsWith('/header'));
    await new Promise((res) => { const tx = db.transaction('kv', 'readwrite'); tx.objectStore('kv').put(new TextEncoder().encode('{"garbage":'), key); tx.oncomplete = res; });
    db.close();
  });
  await page.reload();
  await appReady(page);
  await page.getByText(/header is damaged/).first().waitFor();
  const stored = await page.evaluate(async () => {
    const db = await new Promise((res) => { const r = indexedDB.open('phr'); r.onsuccess = () => res(r.result); });
    const n = await new Promise((res) => { const q = db.transaction('kv').objectStore('kv').count(); q.onsuccess = () => res(q.result); });
    db.close();
    return n;
  });
  assert.ok(stored > 3, 'the damaged vault is still stored');
  assert.deepEqual(consoleErrors(log).filter((e) => !e.includes('damaged')), []);
  await ctx.close();
});
