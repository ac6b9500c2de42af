//! Embeds the git commit being built as `GATEWAY_GIT_COMMIT` (for `gateway --version` and
//! `gateway_build_info`): `git rev-parse --short HEAD`, or `unknown` without git or `.git`.

use std::{path::Path, process::Command};

/// Set it to skip git (a Docker build context has no `.git`: pass the commit in instead).
const OVERRIDE: &str = "GATEWAY_GIT_COMMIT";

/// `git <args>` in the package directory, trimmed; `None` when git is missing or fails.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_owned())
}

/// Reruns only when HEAD moves: the HEAD file (a checkout), the branch's ref file (a commit)
/// and `packed-refs`. Missing files are skipped: cargo would rerun on every build for them.
fn watch_head() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed={OVERRIDE}");
    let Some(git_dir) = git(&["rev-parse", "--git-dir"]) else {
        return;
    };
    // In a worktree the branch refs live in the common directory, not in `git_dir`.
    let common = git(&["rev-parse", "--git-common-dir"]).unwrap_or_else(|| git_dir.clone());
    let mut watched = vec![
        Path::new(&git_dir).join("HEAD"),
        Path::new(&common).join("packed-refs"),
    ];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        let loose = Path::new(&common).join(branch);
        // A ref packed away (`git gc`) comes back as a loose file at the next commit: watch
        // the directory it will appear in.
        match (loose.exists(), loose.parent()) {
            (false, Some(dir)) => watched.push(dir.to_path_buf()),
            _ => watched.push(loose),
        }
    }
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn main() {
    watch_head();
    let commit = std::env::var(OVERRIDE)
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&["rev-parse", "--short", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env={OVERRIDE}={}", commit.trim());
}
