//! Architecture invariants from ARCHITECTURE.md, checked against `cargo metadata`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Web-facing crates that the pure crates under `crates/` must never depend on, even indirectly.
const WEB_CRATES: &[&str] = &["web-sys", "js-sys", "wasm-bindgen", "leptos", "gloo"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

fn is_web_crate(name: &str) -> bool {
    WEB_CRATES.iter().any(|w| {
        name == *w || name.starts_with(&format!("{w}-")) || name.starts_with(&format!("{w}_"))
    })
}

/// For every workspace crate, whether it lives under `crates/` (a pure crate), and the set of web
/// crates reachable from it through normal (non-dev) dependencies on any target.
fn web_dependencies(meta: &Value) -> BTreeMap<String, (bool, BTreeSet<String>)> {
    let packages: BTreeMap<&str, &Value> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p))
        .collect();
    let nodes: BTreeMap<&str, &Value> = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n))
        .collect();
    let mut result = BTreeMap::new();
    for member in meta["workspace_members"].as_array().unwrap() {
        let id = member.as_str().unwrap();
        let pkg = packages[id];
        let pure = pkg["manifest_path"].as_str().unwrap().contains("/crates/");
        let mut seen = BTreeSet::new();
        let mut stack = vec![id];
        let mut web = BTreeSet::new();
        while let Some(cur) = stack.pop() {
            if !seen.insert(cur) {
                continue;
            }
            for dep in nodes[cur]["deps"].as_array().unwrap() {
                let normal = dep["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null());
                if !normal {
                    continue;
                }
                let dep_id = dep["pkg"].as_str().unwrap();
                let name = packages[dep_id]["name"].as_str().unwrap();
                if is_web_crate(name) {
                    web.insert(name.to_string());
                }
                stack.push(dep_id);
            }
        }
        result.insert(pkg["name"].as_str().unwrap().to_string(), (pure, web));
    }
    result
}

#[test]
fn pure_crates_never_depend_on_web_crates() {
    let meta = metadata();
    let found = web_dependencies(&meta);
    assert!(
        found.values().any(|(pure, _)| *pure),
        "no crates found under crates/"
    );
    let offenders: Vec<_> = found
        .iter()
        .filter(|(_, (pure, web))| *pure && !web.is_empty())
        .collect();
    assert!(
        offenders.is_empty(),
        "pure crates must not depend on web crates: {offenders:?}"
    );
}

#[test]
fn the_check_recognises_web_crates() {
    // Guards the check itself: if the matcher broke, the invariant above would pass vacuously.
    for name in [
        "web-sys",
        "js-sys",
        "wasm-bindgen",
        "wasm-bindgen-futures",
        "leptos",
        "leptos_dom",
        "gloo-storage",
        "gloo",
    ] {
        assert!(is_web_crate(name), "{name} should count as a web crate");
    }
    for name in ["serde", "aes-gcm", "argon2", "sha2", "leptonica"] {
        assert!(!is_web_crate(name), "{name} is not a web crate");
    }
    // The same walk over the app crate must find them, so the invariant above cannot pass vacuously.
    let found = web_dependencies(&metadata());
    let (app_pure, app_web) = &found["phr-app"];
    assert!(!app_pure);
    for name in [
        "leptos",
        "wasm-bindgen",
        "web-sys",
        "js-sys",
        "gloo-storage",
    ] {
        assert!(
            app_web.contains(name),
            "walk missed {name} under phr-app: {app_web:?}"
        );
    }
}

/// Untrusted text (EHR narratives, documents) must never become markup: the app never uses
/// `inner_html` or `set_inner_html`, and never builds elements from HTML strings.
#[test]
fn the_app_never_sets_inner_html() {
    fn visit(dir: &Path, hits: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("readable source dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                visit(&path, hits);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("readable source");
                for (n, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    for banned in [
                        "inner_html",
                        "set_inner_html",
                        "outer_html",
                        "insert_adjacent_html",
                        "document.write",
                    ] {
                        if code.contains(banned) {
                            hits.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                        }
                    }
                }
            }
        }
    }
    let src = workspace_root().join("src");
    let mut hits = Vec::new();
    visit(&src, &mut hits);
    assert!(
        hits.is_empty(),
        "markup from strings in the app:\n{}",
        hits.join("\n")
    );
    // The check itself sees the source tree.
    assert!(src.join("lib.rs").exists());
}
