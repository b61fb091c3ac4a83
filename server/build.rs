//! Builds the web client (`web/`, TypeScript bundled by esbuild) into
//! `web/dist`, which `assets.rs` embeds into the binary.
//!
//! Set `WERKTAFEL_SKIP_WEB_BUILD=1` to embed whatever `web/dist` holds (a
//! placeholder page is written if it holds nothing), e.g. where npm is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let web = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web");
    let dist = web.join("dist");
    for input in [
        "src",
        "static",
        "package.json",
        "package-lock.json",
        "build.mjs",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={}", web.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=WERKTAFEL_SKIP_WEB_BUILD");

    if std::env::var_os("WERKTAFEL_SKIP_WEB_BUILD").is_some() || !web.join("package.json").exists()
    {
        placeholder(&dist);
        return;
    }
    if !web.join("node_modules").exists() {
        npm(&web, &["ci", "--no-audit", "--no-fund"]);
    }
    npm(&web, &["run", "build"]);
}

fn npm(dir: &Path, args: &[&str]) {
    let status = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "running `npm {}` in {}: {e} (is Node.js with npm installed?)",
                args.join(" "),
                dir.display()
            )
        });
    assert!(
        status.success(),
        "`npm {}` in {} failed",
        args.join(" "),
        dir.display()
    );
}

fn placeholder(dist: &Path) {
    if dist.join("index.html").exists() {
        return;
    }
    std::fs::create_dir_all(dist).expect("creating web/dist");
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><meta charset=utf-8><title>Werktafel</title><p>The web client was not built (WERKTAFEL_SKIP_WEB_BUILD or no web/package.json).</p>",
    )
    .expect("writing web/dist/index.html");
}
