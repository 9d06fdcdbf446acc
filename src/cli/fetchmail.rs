//! `mailsetup fetchmail [FETCHMAIL OPTIONS]`: runs fetchmail with the passwords its rc file's
//! mailsetup entries name (fetchmail itself cannot run a password command). The rc file
//! (`$FETCHMAILHOME/fetchmailrc` or `~/.fetchmailrc`) is read, each entry marked with a
//! password command gets `password "…"` from that command, and fetchmail reads the result on
//! its standard input (`fetchmail -f -`): the password is never in a file or in argv.
//! `mailsetup deliver MAILDIR` is the `mda` those entries use: one message from standard input
//! into a Maildir.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{bail, Context as _, Result};
use clap::Args;

use crate::clients::fetchmail::with_passwords;

#[derive(Debug, Args)]
pub struct FetchmailArgs {
    /// Options handed to fetchmail as they are (e.g. --daemon 300, -v, --pidfile FILE)
    #[arg(
        value_name = "FETCHMAIL OPTIONS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DeliverArgs {
    /// The Maildir (a leading ~/ is the home directory); cur/new/tmp are made if missing
    #[arg(value_name = "MAILDIR")]
    pub maildir: String,
}

fn rc_path() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("FETCHMAILHOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir).join("fetchmailrc"));
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .context("$HOME is not set")?;
    Ok(PathBuf::from(home).join(".fetchmailrc"))
}

pub fn fetchmail(args: FetchmailArgs) -> Result<i32> {
    let path = rc_path()?;
    let rc = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: no fetchmail configuration (run `mailsetup setup` first)",
            path.display()
        )
    })?;
    let text = with_passwords(&rc, |cmd| {
        super::credentials::run_password_command(
            cmd,
            "the password command in the fetchmail configuration",
        )
    })?;
    let mut child = Command::new("fetchmail")
        .arg("-f")
        .arg("-")
        .args(&args.args)
        .stdin(Stdio::piped())
        .spawn()
        .context("could not run fetchmail (is it installed?)")?;
    {
        let mut stdin = child.stdin.take().context("fetchmail's standard input")?;
        // fetchmail reads the whole configuration before it starts; a broken pipe means it
        // exited early, and its own message says why.
        let _ = stdin.write_all(text.as_bytes());
    }
    let status = child.wait().context("waiting for fetchmail")?;
    Ok(status.code().unwrap_or(1))
}

pub fn deliver(args: DeliverArgs) -> Result<i32> {
    let dir = match args.maildir.strip_prefix("~/") {
        Some(rest) => {
            let home = std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .context("$HOME is not set")?;
            PathBuf::from(home).join(rest)
        }
        None => PathBuf::from(&args.maildir),
    };
    if dir.as_os_str().is_empty() {
        bail!("deliver: give the Maildir");
    }
    crate::app::files::deliver_maildir(&dir, &mut std::io::stdin().lock())?;
    Ok(0)
}
