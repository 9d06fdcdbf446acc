//! Generated files: shell completions and man pages, produced from the clap definition.
//! Regenerate with `scripts/gen-assets`; a test fails when the committed copies are stale.

use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;

/// Every generated file as (path relative to the repo root, contents).
pub fn render_all() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for (shell, name) in [
        (Shell::Bash, "mailsetup.bash"),
        (Shell::Zsh, "_mailsetup"),
        (Shell::Fish, "mailsetup.fish"),
        (Shell::Elvish, "mailsetup.elv"),
        (Shell::PowerShell, "_mailsetup.ps1"),
    ] {
        let mut cmd = Cli::command();
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, "mailsetup", &mut buf);
        out.push((PathBuf::from("completions").join(name), buf));
    }
    let cmd = Cli::command();
    out.push((PathBuf::from("man/mailsetup.1"), man_page(&cmd)));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("mailsetup-{}", sub.get_name());
        let sub = sub.clone().name(name.clone());
        out.push((PathBuf::from(format!("man/{name}.1")), man_page(&sub)));
    }
    out
}

fn man_page(cmd: &clap::Command) -> Vec<u8> {
    let mut buf = Vec::new();
    // invariant: the only error `render` can return is the writer's, and writing into a Vec
    // cannot fail.
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .expect("rendering a man page into memory cannot fail");
    buf
}
