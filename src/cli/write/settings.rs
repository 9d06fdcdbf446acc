//! Where the settings to write come from without a check: `--server` URLs, or a saved
//! `check --json` report (its trust records enforced).

use anyhow::{bail, Context as _, Result};

use crate::model::{
    AccountSettings, Address, AuthMethod, Endpoint, Pop3Policy, Protocol, ServerSettings,
};
use crate::report::CheckReport;

/// Account settings from `--server` URLs, without any network access.
pub fn settings_from_servers(
    address: &Address,
    servers: &[Endpoint],
    username: Option<&str>,
    display_name: Option<String>,
    pop3: Pop3Policy,
) -> Result<AccountSettings> {
    let username = username
        .map(str::to_string)
        .unwrap_or_else(|| address.to_string());
    let pick = |incoming: bool| {
        servers
            .iter()
            .find(|e| (e.protocol != Protocol::Smtp) == incoming)
            .map(|e| ServerSettings {
                endpoint: e.clone(),
                username: username.clone(),
                auth: AuthMethod::PasswordCleartext,
                mechanism: None,
            })
    };
    let incoming = pick(true)
        .context("--server: give an incoming server (imaps://, imap://, pop3s:// or pop3://)")?;
    let outgoing =
        pick(false).context("--server: give an outgoing server (smtps:// or smtp://)")?;
    Ok(AccountSettings {
        address: address.to_string(),
        display_name,
        incoming,
        outgoing,
        pop3,
        folders: Default::default(),
    })
}

/// Account settings from a saved `check --json` report. A server the trust policy does not
/// trust (the report's own record; for a report of an older version, a host outside the
/// address's domain) is refused unless `--trust-host` names it: nothing is written.
pub fn settings_from_report(
    path: &std::path::Path,
    pop3: Option<Pop3Policy>,
    trust_hosts: &[String],
) -> Result<AccountSettings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("--from {}", path.display()))?;
    let report: CheckReport = serde_json::from_str(&text).with_context(|| {
        format!(
            "--from {}: not a `mailsetup check --json` report",
            path.display()
        )
    })?;
    let Some(rec) = report.recommended else {
        bail!("--from {}: the check found no working incoming and outgoing server, so there is nothing to write; fix the problems it lists first", path.display());
    };
    if !rec.verified {
        eprintln!("mailsetup: note: these settings were probed but the login was not verified (the check had no password)");
    }
    let address: Address = rec
        .settings
        .address
        .parse()
        .map_err(|e| anyhow::anyhow!("--from {}: {e}", path.display()))?;
    let policy = crate::app::trust::TrustPolicy::new(&address, trust_hosts, false);
    for server in [&rec.settings.incoming, &rec.settings.outgoing] {
        let recorded = report
            .endpoints
            .iter()
            .find(|e| e.endpoint() == server.endpoint)
            .and_then(|e| e.trust_reason);
        let reason = policy.recorded(&server.endpoint.host, recorded);
        if !reason.trusted() {
            bail!(
                "--from {}: {} is not trusted ({reason}): {}; nothing was written. If it is your \
                 provider's server, add --trust-host {}",
                path.display(),
                server.endpoint,
                match reason {
                    crate::model::TrustReason::Unrecorded => "this report predates trust records and the host lies outside the address's domain",
                    crate::model::TrustReason::MxUnconfirmed => "it was derived from the domain's MX record and never confirmed",
                    _ => "it lies outside the address's domain and no trusted source vouched for it",
                },
                server.endpoint.host
            );
        }
    }
    let mut settings = rec.settings;
    if let Some(p) = pop3 {
        settings.pop3 = p;
    }
    Ok(settings)
}
