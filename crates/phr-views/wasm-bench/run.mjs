// node run.mjs <wasm> <data dir> [rounds]: best-of-N timings of phr-views in WebAssembly.
import { readFileSync } from 'node:fs';

const [wasmPath, dir, rounds = '5'] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const x = instance.exports;
const enc = new TextEncoder();

function put(text) {
  const bytes = enc.encode(text);
  const p = x.buffer(bytes.length);
  new Uint8Array(x.memory.buffer, p, bytes.length).set(bytes);
}

function best(n, f) {
  let b = Infinity;
  let r;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    r = f();
    b = Math.min(b, performance.now() - t);
  }
  return [b, r];
}

for (const [i, f] of ['general.ndjson', 'clinic.ndjson'].entries()) {
  put(readFileSync(`${dir}/${f}`, 'utf8'));
  x.load(i);
}
const n = Number(rounds);
for (const [name, f] of [['build', x.build], ['to_bytes', x.to_bytes], ['from_bytes', x.from_bytes], ['summary', x.summarize]]) {
  const [t, r] = best(n, () => f());
  console.log(`${name}: ${t.toFixed(1)} ms (${r})`);
}
let worst = 0;
for (const q of ['hemoglobin a1c', 'glucose 9', 'zzzz', 'dr. ']) {
  let typed = '';
  for (const c of q) {
    typed += c;
    put(typed);
    const [t] = best(n, () => x.search());
    worst = Math.max(worst, t);
  }
}
console.log(`slowest keystroke: ${worst.toFixed(2)} ms`);
