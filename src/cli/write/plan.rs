//! Installing where clients look, in words: the plan (with diffs) before, what was done after.

use anyhow::Result;

use crate::app::files;
use crate::clients::OutputFile;
use crate::report::escape::terminal_safe as safe;

/// The install plan for these files (files without a conventional place go below
/// `~/.local/share/mailsetup/`).
pub fn plan_install(files: &[OutputFile]) -> Result<files::InstallPlan> {
    let env = files::InstallEnv::from_process()?;
    let files: Vec<OutputFile> = files
        .iter()
        .filter(|f| {
            // A spare file (Himalaya's v1 schema) stays out of the way when its client's main
            // file is installed.
            f.install_path.is_some()
                || !files
                    .iter()
                    .any(|g| g.client == f.client && g.install_path.is_some())
        })
        .cloned()
        .map(|mut f| {
            if f.install_path.is_none() {
                f.install_path = Some(format!("~/.local/share/mailsetup/{}", f.path.display()));
                f.install = crate::clients::Install::File;
            }
            f
        })
        .collect();
    Ok(files::plan_install(&files, &env)?)
}

/// `~/x` for paths below $HOME.
pub fn tilde(p: &std::path::Path) -> String {
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        if let Ok(rest) = p.strip_prefix(&home) {
            return format!("~/{}", rest.display());
        }
    }
    p.display().to_string()
}

/// What installing will do, with a diff for every existing file that changes.
pub fn describe_plan(plan: &files::InstallPlan) -> String {
    let mut out = String::new();
    for c in &plan.changes {
        let p = tilde(&c.path);
        match (&c.old, c.changes_anything()) {
            (None, _) => out.push_str(&format!("  create {p} ({}, mode {:o})\n", c.client, c.mode)),
            (Some(_), true) => {
                out.push_str(&format!(
                    "  change {p} ({}; only its own block; the old file is kept as {p}.bak):\n",
                    c.client
                ));
                out.push_str(&indent(&safe(&c.diff())));
            }
            (Some(_), false) => out.push_str(&format!(
                "  keep   {p} ({}, already up to date)\n",
                c.client
            )),
        }
    }
    for (d, maildir) in &plan.dirs {
        if !d.is_dir() {
            out.push_str(&format!(
                "  make   {}/{}\n",
                tilde(d),
                if *maildir {
                    " (a Maildir: cur, new, tmp)"
                } else {
                    ""
                }
            ));
        }
    }
    out
}

/// What installing did.
pub fn describe_installed(done: &[files::Installed]) -> String {
    let mut out = String::new();
    for i in done {
        let p = tilde(&i.path);
        match &i.backup {
            Some(b) => out.push_str(&format!(
                "changed {p} (previous version kept as {})\n",
                tilde(b)
            )),
            None => out.push_str(&format!("created {p}\n")),
        }
    }
    out
}

pub(super) fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}
