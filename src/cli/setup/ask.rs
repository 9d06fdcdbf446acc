//! The wizard's questions (each also answered by a flag or, with `--yes`, by its default).

use anyhow::{bail, Context as _, Result};
use dialoguer::{Confirm, MultiSelect, Select};

use super::super::write::on_path;
use super::SetupArgs;
use crate::clients::{Client, OutputFile, CLIENTS};
use crate::model::Protocol;
use crate::report::escape::terminal_safe as safe;
use crate::report::{human, CheckReport};
use crate::secrets::{Store, StoreEnv, StoreKind};

/// The secret store for the password: `--store-password`, else (with no other password
/// source) a choice among the stores usable here, keyring first; `--yes` takes the first.
pub(super) fn choose_store(
    args: &SetupArgs,
    ask: bool,
    runtime: &tokio::runtime::Runtime,
) -> Result<Option<Store>> {
    let env = StoreEnv::from_process();
    if let Some(kind) = args.target.store_password {
        let store = Store::new(kind, env);
        runtime
            .block_on(store.available())
            .map_err(|e| anyhow::anyhow!("--store-password {kind}: {e}"))?;
        return Ok(Some(store));
    }
    if args.target.embed_password || args.credentials.password_command.is_some() {
        return Ok(None);
    }
    let mut usable = Vec::new();
    for kind in StoreKind::ALL {
        let store = Store::new(kind, env.clone());
        if runtime.block_on(store.available()).is_ok() {
            usable.push(store);
        }
    }
    if !ask {
        return match usable.into_iter().find(|s| s.kind() != StoreKind::File) {
            Some(s) => Ok(Some(s)),
            None => bail!("no secret store is usable here (no Secret Service, pass not initialised): add --store-password file (a private file), or --embed-password"),
        };
    }
    let items: Vec<String> = usable
        .iter()
        .map(|s| match s.kind() {
            StoreKind::Keyring => format!("{} (recommended)", s.describe()),
            StoreKind::Pass => s.describe(),
            StoreKind::File => format!("{} that only you can read", s.describe()),
        })
        .collect();
    println!();
    let i = Select::new()
        .with_prompt("Where should your password be kept?")
        .items(&items)
        .default(0)
        .interact()?;
    Ok(Some(usable.swap_remove(i)))
}

/// The provider was derived from the domain's MX record, which only says where mail is
/// delivered (and is an unauthenticated DNS answer): show the provider, the MX host and the
/// servers, and let the user vouch for it with one key.
pub(super) fn confirm_mx_provider(d: &crate::discover::Discovery) -> bool {
    use crate::model::TrustReason;
    let unconfirmed: Vec<&crate::discover::Candidate> = d
        .candidates
        .iter()
        .filter(|c| c.trust_reason == Some(TrustReason::MxUnconfirmed))
        .collect();
    let mx = unconfirmed
        .iter()
        .find_map(|c| c.mx_host.as_deref())
        .unwrap_or("?");
    let provider = d.provider.as_deref().unwrap_or("a mail provider");
    eprintln!(
        "\nYour domain's mail is delivered to {} — that looks like {}.",
        safe(mx),
        safe(provider)
    );
    eprintln!("If your mail is hosted there, these are its servers:");
    let mut hosts: Vec<String> = unconfirmed.iter().map(|c| c.endpoint.to_string()).collect();
    hosts.dedup();
    for h in &hosts {
        eprintln!("  {}", safe(h));
    }
    Confirm::new()
        .with_prompt(format!(
            "Is {} your mail provider? (your password goes to these servers only if you say yes)",
            safe(provider)
        ))
        .default(false)
        .interact()
        .unwrap_or(false)
}

/// The IMAP/POP3 choice, in the provider help page's terms.
pub(super) fn choose_protocol(r: &CheckReport) -> Result<Protocol> {
    println!(
        "Your account works with both IMAP and POP3. Which one should your mail client use?\n"
    );
    println!(
        "  IMAP keeps your mail on the server. Every device (phone, laptop, webmail) sees the same"
    );
    println!("       mailbox; the server's copy is the real one.");
    println!("  POP3 downloads your mail to this one device and, by default, removes it from the server;");
    println!("       the copy on this computer is then the real one (keep backups).");
    let mut storage = String::new();
    if let Some(q) = &r.quota {
        human::storage(&mut storage, q);
    }
    println!(
        "\n  Both use your account's storage (IMAP, and POP3 when it leaves copies on the server).{}",
        storage.trim_end().replace("\nStorage:", "\n  Storage now:")
    );
    let i = Select::new()
        .with_prompt("Use")
        .items([
            "IMAP — keep mail on the server (best for several devices)",
            "POP3 — download mail to this computer",
        ])
        .default(0)
        .interact()?;
    Ok(if i == 0 {
        Protocol::Imap
    } else {
        Protocol::Pop3
    })
}

/// Clients to write for: flags, or a choice with the installed ones first and preselected.
/// Clients of `alternative` only (when it works too) are offered as well.
pub(super) fn choose_clients(
    args: &SetupArgs,
    ask: bool,
    incoming: Protocol,
    alternative: Option<Protocol>,
) -> Result<Vec<Client>> {
    if !args.clients.is_empty() {
        return Ok(args.clients.clone());
    }
    let mut fitting: Vec<(Client, String, bool)> = CLIENTS
        .iter()
        .filter(|c| {
            c.incoming.contains(&incoming)
                || c.incoming.is_empty()
                || alternative.is_some_and(|a| c.incoming.contains(&a))
        })
        .map(|c| {
            let via = if !c.incoming.is_empty() && !c.incoming.contains(&incoming) {
                format!(" (over {})", c.incoming[0].as_str().to_uppercase())
            } else {
                String::new()
            };
            (
                c.client,
                format!("{}{via}", c.description),
                c.binary.is_some_and(on_path),
            )
        })
        .collect();
    fitting.sort_by_key(|(_, _, installed)| !installed);
    if !ask {
        return Ok(fitting.iter().filter(|c| c.2).map(|c| c.0).collect());
    }
    let items: Vec<String> = fitting
        .iter()
        .map(|(n, d, i)| format!("{n:<12} {d}{}", if *i { "  [installed]" } else { "" }))
        .collect();
    let defaults: Vec<bool> = fitting.iter().map(|c| c.2).collect();
    // The echo after the answer names the chosen programs only (dialoguer would repeat every
    // chosen line in full on one long line).
    let picked = MultiSelect::new()
        .with_prompt("Write settings for which mail programs? (space toggles, enter accepts)")
        .items(&items)
        .defaults(&defaults)
        .report(false)
        .interact()?;
    let chosen: Vec<Client> = picked.into_iter().map(|i| fitting[i].0).collect();
    println!(
        "Write settings for which mail programs?: {}",
        if chosen.is_empty() {
            "none".to_string()
        } else {
            chosen
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    Ok(chosen)
}

/// After installing: offer to fetch the mail now with the first program that fetches once
/// and exits (mbsync, OfflineIMAP, mpop, getmail, `mailsetup fetchmail`).
pub(super) fn offer_fetch(files: &[OutputFile], exe: &str) -> Result<()> {
    let first = files.iter().find_map(|f| {
        let cmd = f.start.as_deref().filter(|_| f.fetches)?;
        Some((f.client, cmd.to_string()))
    });
    if let Some((client, cmd)) = first {
        if Confirm::new()
            .with_prompt(format!("Fetch your mail now with {client} (`{cmd}`)?"))
            .default(false)
            .interact()?
        {
            let cmd = cmd.replacen("mailsetup", &crate::clients::quote::shell_word(exe), 1);
            let status = std::process::Command::new("sh")
                .arg("-c")
                .arg(&cmd)
                .status()
                .with_context(|| format!("running {cmd}"))?;
            println!(
                "{client} {}",
                if status.success() {
                    "finished."
                } else {
                    "reported a problem (see above)."
                }
            );
        }
    }
    Ok(())
}
