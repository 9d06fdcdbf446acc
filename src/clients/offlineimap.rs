//! OfflineIMAP 3: an IMAP account synced into a Maildir. The file is read by
//! Python's ConfigParser with interpolation, so every `%` is written `%%`; the
//! password is fetched by `remotepasseval`, a Python expression that runs the
//! shell command, built from Python string literals.
//!
//! OfflineIMAP's STARTTLS is opportunistic (it continues in plaintext when the
//! server does not offer it), so STARTTLS accounts are refused.

use crate::model::{AuthMethod, Security};

use super::{quote, Ctx, OutputFile, Password, WriteError};

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
    let encrypted = ctx.password_auth("incoming", ctx.incoming)?;
    let server = ctx.incoming;
    if server.endpoint.security == Security::StartTls {
        return Err(WriteError::Unsupported {
            client: ctx.client(),
            reason: format!(
                "OfflineIMAP only tries STARTTLS and carries on without encryption when it is missing, \
                 so an attacker could read the password sent to {}; use the implicit-TLS port 993 if the \
                 server offers it, or mbsync",
                server.endpoint
            ),
        });
    }
    let user = ctx.username("incoming", server)?;
    let name = &ctx.account;
    let maildir = ctx.maildir();
    let esc = quote::configparser_interpolated;

    let mut out = String::new();
    out.push_str(&format!("[Account {name}]\n"));
    out.push_str(&format!("localrepository = {name}-local\n"));
    out.push_str(&format!("remoterepository = {name}-remote\n"));
    out.push_str(&format!("\n[Repository {name}-local]\ntype = Maildir\n"));
    out.push_str(&format!("localfolders = {}\n", esc(&maildir)));
    out.push_str(&format!("\n[Repository {name}-remote]\ntype = IMAP\n"));
    out.push_str(&format!("remotehost = {}\n", server.endpoint.host));
    out.push_str(&format!("remoteport = {}\n", server.endpoint.port));
    out.push_str(&format!("remoteuser = {}\n", esc(user)));
    match ctx.password() {
        Password::Embedded(secret) => {
            quote::no_outer_whitespace("password", secret).map_err(|_| {
                quote::unsafe_value(
                    "password",
                    "starts or ends with whitespace, which OfflineIMAP's parser strips; use --password-command",
                )
            })?;
            out.push_str(&format!("remotepass = {}\n", esc(secret)));
        }
        Password::Command(cmd) => {
            let expr = format!(
                "__import__('subprocess').check_output({}, text=True).partition('\\n')[0]",
                quote::python_tuple(["/bin/sh", "-c", cmd])
            );
            // OAuth2: the same command prints a fresh access token, sent with XOAUTH2.
            let key = if ctx.oauth2() {
                "oauth2_access_token_eval"
            } else {
                "remotepasseval"
            };
            out.push_str(&format!("{key} = {}\n", esc(&expr)));
        }
    }
    if server.endpoint.security == Security::Tls {
        out.push_str("ssl = yes\nsslcacertfile = OS-DEFAULT\n");
    } else {
        out.push_str("ssl = no\n");
    }
    out.push_str("starttls = no\n");
    match (server.auth, encrypted) {
        (AuthMethod::OAuth2, _) => out.push_str("auth_mechanisms = XOAUTH2\n"),
        (_, Some(mech)) => out.push_str(&format!("auth_mechanisms = {mech}\n")),
        (_, None) => out.push_str("auth_mechanisms = PLAIN, LOGIN\n"),
    }

    let mut notes = ctx.password_notes(true, true);
    notes.push(format!(
        "Run `offlineimap -a {name}`; mail goes to {maildir}."
    ));
    notes.extend(ctx.plain_notes());
    let body = out;
    let alone = format!("[general]\naccounts = {name}\n\n{body}");
    let out = format!("# {}\n{alone}", super::header(ctx));
    let mut file = ctx.file(
        "offlineimap/offlineimaprc",
        Some("~/.config/offlineimap/config"),
        out,
        ctx.embeds_password(),
        notes,
    );
    file.install = ctx.block(
        &[
            ("~/.config/offlineimap/config", true),
            ("~/.offlineimaprc", true),
        ],
        "~/.config/offlineimap/config",
        alone,
        body,
    );
    file.dirs = vec![super::NeededDir {
        path: maildir,
        maildir: false,
    }];
    file.start = Some(format!("offlineimap -a {name}"));
    file.fetches = true;
    Ok(vec![file])
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{render, WriteOptions};

    #[test]
    fn passeval_is_python_and_percent_safe() {
        let opts = WriteOptions {
            password_command: Some("printf '%s' \"$(cat ~/pw)\"".into()),
            ..Default::default()
        };
        let f = &render("offlineimap", &imap(), &opts).unwrap()[0];
        assert!(
            f.contents.contains(
                "remotepasseval = __import__('subprocess').check_output(('/bin/sh', '-c', 'printf \\'%%s\\' \"$(cat ~/pw)\"'), text=True).partition('\\n')[0]\n"
            ),
            "{}",
            f.contents
        );
        assert!(f
            .contents
            .contains("ssl = yes\nsslcacertfile = OS-DEFAULT\n"));
    }
}
