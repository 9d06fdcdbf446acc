//! What a writer returns: the files to write, and how each is installed where its client
//! looks (its own file, or a marked block in a file shared with other accounts).

use std::path::PathBuf;

use super::Client;

/// The markers around an account's block in a shared file.
pub fn block_markers(account: &str) -> (String, String) {
    (
        format!("# >>> mailsetup {account} >>>"),
        format!("# <<< mailsetup {account} <<<"),
    )
}

/// One file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// The client it is for (its id, e.g. `mbsync`, starts `path`).
    pub client: Client,
    /// Path relative to the output directory, e.g. `mbsync/mbsyncrc`.
    pub path: PathBuf,
    /// The client's conventional location (`~/.mbsyncrc`), when installing there
    /// is safe; `None` when the file must be imported or merged by hand.
    pub install_path: Option<String>,
    pub contents: String,
    /// 0o600 when the file holds a secret (and always for aerc and fetchmail), else 0o644.
    pub mode: u32,
    /// Things to tell the user (storage warnings, how to import, password setup).
    pub notes: Vec<String>,
    /// How the file goes to `install_path` (`--install`, and `setup` by default).
    pub install: Install,
    /// Directories the client needs before its first run (`~/` paths), made on install.
    pub dirs: Vec<NeededDir>,
    /// The command that starts the client for this account, once installed.
    pub start: Option<String>,
    /// `start` fetches the account's mail once and exits (mbsync, OfflineIMAP, mpop, getmail,
    /// `mailsetup fetchmail`), so the wizard may offer to run it right away.
    pub fetches: bool,
}

/// How a file is installed where its client looks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Install {
    /// `install_path` is this account's own file (created, or replaced with a backup).
    #[default]
    File,
    /// A marked block (`# >>> mailsetup ACCOUNT >>>` … `# <<< mailsetup ACCOUNT <<<`) in a
    /// file shared with other accounts: the first of `search` that exists, else
    /// `install_path`. `alone` is the block when no other configuration precedes it (it may
    /// then set defaults), `beside` when some does.
    Block(Block),
    /// `install_path` is this account's own file, pulled in by a marked block in the client's
    /// main file (Mutt's `source`).
    Sourced(Block),
    /// An own file named `name` in the first of `dirs` that exists (else the first one).
    FileInDir {
        dirs: Vec<&'static str>,
        name: String,
    },
}

/// A marked block in a shared file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The account id the markers carry.
    pub account: String,
    /// The client's search order; `(path, writable)`: a file that is not writable for this
    /// client (another client's file it falls back to reading) is kept by creating
    /// `create` with `inherit` (its path filled in) at the top.
    pub search: Vec<(&'static str, bool)>,
    /// Where a new shared file is created.
    pub create: &'static str,
    pub inherit: Option<String>,
    pub alone: String,
    pub beside: String,
}

/// A directory a client needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeededDir {
    pub path: String,
    /// A Maildir: `cur`, `new` and `tmp` are made inside.
    pub maildir: bool,
}
