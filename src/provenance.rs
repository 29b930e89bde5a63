//! Where a result came from: the commit of the code that ran, and results written whole.

use std::path::Path;

use crate::error::{Result, TanpError};

/// The commit checked out in the working directory, with `-dirty` when files outside
/// `results/` differ from it; `None` outside a git checkout.
pub fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    // Changed files outside results/ (results do not change what runs; a rerun replaces them).
    let dirty = std::process::Command::new("git")
        .args([
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":!results",
        ])
        .output()
        .ok()
        .is_some_and(|o| !o.stdout.is_empty());
    let hash = String::from_utf8(out.stdout).ok()?.trim().to_string();
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}

/// Writes `text` to `path`, creating its folder.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| TanpError::io(parent, e))?;
    }
    std::fs::write(path, text).map_err(|e| TanpError::io(path, e))
}
