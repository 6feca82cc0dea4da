// Starts the key-derivation worker (src/bin/kdf_worker.rs): load the wasm-bindgen glue, then the
// wasm module, whose main() installs the message handler and posts {type: "ready"}.
importScripts('./kdf_worker.js');
wasm_bindgen({ module_or_path: './kdf_worker_bg.wasm' });
