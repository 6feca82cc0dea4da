// A browser profile on a small disk, so that storage really runs out (Chromium then aborts writes
// with QuotaExceededError). Needs permission to mount a tmpfs (root, as in CI); where that is not
// allowed, the same DOMException is raised by IndexedDB writes past the limit instead, and the test
// says so in its output.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CHROMIUM_ARGS } from './harness.mjs';

export async function smallDiskContext(sizeMb) {
  const dir = mkdtempSync(path.join(tmpdir(), 'phr-smalldisk-'));
  let mounted = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' });
    mounted = true;
  } catch {
    console.log(`(no permission to mount a ${sizeMb} MB disk: simulating a full disk after ${sizeMb} MB of IndexedDB writes)`);
  }
  const ctx = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS,
  });
  if (!mounted) {
    await ctx.addInitScript((limit) => {
      let written = 0;
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (value, key) {
        written += value?.byteLength ?? 0;
        if (written > limit) throw new DOMException('The disk is full.', 'QuotaExceededError');
        return put.call(this, value, key);
      };
    }, sizeMb * 1024 * 1024 / 2);
  }
  return {
    ctx,
    mounted,
    async close() {
      await ctx.close();
      if (mounted) execFileSync('umount', [dir], { stdio: 'pipe' });
    },
  };
}
