//! getmail6: a getmailrc (Python RawConfigParser, no interpolation) retrieving
//! into a Maildir. `password_command` is a Python tuple evaluated by getmail, so
//! its items are Python string literals ([`quote::python_tuple`]); the shell
//! command runs as `/bin/sh -c CMD`.
//!
//! getmail6 has no STARTTLS: such accounts are refused rather than written to
//! send the password unencrypted.

use crate::model::{Protocol, Security};

use super::{quote, Ctx, OutputFile, Password, WriteError};

/// getmail verifies certificates (and the host name) only when given a CA bundle.
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
    let server = ctx.incoming;
    let pop3 = ctx.is_pop3();
    // getmail can do APOP for POP3 and CRAM-MD5 for IMAP.
    let encrypted = ctx.password_auth("incoming", server)?;
    if server.endpoint.security == Security::StartTls {
        return Err(WriteError::Unsupported {
            client: ctx.client(),
            reason: format!(
                "getmail6 cannot use STARTTLS, so it would send the password unencrypted to {}; \
                 use the implicit-TLS port ({}) if the server offers it, or mpop/fetchmail",
                server.endpoint,
                server.endpoint.protocol.default_port(Security::Tls)
            ),
        });
    }
    if pop3 && ctx.oauth2() {
        return Err(WriteError::Unsupported {
            client: ctx.client(),
            reason: "getmail6 logs in with OAuth2 (XOAUTH2) only over IMAP; for POP3 with OAuth2 \
                     use mpop"
                .into(),
        });
    }
    let user = ctx.username("incoming", server)?;
    quote::no_outer_whitespace("incoming username", user)?;
    let tls = server.endpoint.security == Security::Tls;
    let retriever = match (server.endpoint.protocol, tls) {
        (Protocol::Pop3, true) => "SimplePOP3SSLRetriever",
        (Protocol::Pop3, false) => "SimplePOP3Retriever",
        (_, true) => "SimpleIMAPSSLRetriever",
        (_, false) => "SimpleIMAPRetriever",
    };
    let maildir = ctx.maildir();

    let mut out = String::new();
    out.push_str(&format!("# {}\n", super::header(ctx)));
    out.push_str("[retriever]\n");
    out.push_str(&format!("type = {retriever}\n"));
    out.push_str(&format!("server = {}\n", server.endpoint.host));
    out.push_str(&format!("port = {}\n", server.endpoint.port));
    out.push_str(&format!("username = {user}\n"));
    match ctx.password() {
        Password::Embedded(secret) => {
            quote::no_outer_whitespace("password", secret).map_err(|_| {
                quote::unsafe_value(
                    "password",
                    "starts or ends with whitespace, which getmail's parser strips; use --password-command",
                )
            })?;
            out.push_str(&format!("password = {secret}\n"));
        }
        Password::Command(cmd) => out.push_str(&format!(
            "password_command = {}\n",
            quote::python_tuple(["/bin/sh", "-c", cmd])
        )),
    }
    if tls {
        out.push_str(&format!("ca_certs = {CA_BUNDLE}\n"));
    }
    if let Some(option) = encrypted {
        out.push_str(&format!("{option} = true\n"));
    }
    if ctx.oauth2() {
        // password_command prints a fresh access token; getmail sends it with XOAUTH2.
        out.push_str("use_xoauth2 = true\n");
    }
    if !pop3 {
        out.push_str(&format!("mailboxes = {}\n", quote::python_tuple(["INBOX"])));
    }

    out.push_str("\n[destination]\ntype = Maildir\n");
    out.push_str(&format!("path = {maildir}/\n"));

    out.push_str("\n[options]\n");
    out.push_str("read_all = false\n");
    let delete = pop3 && !ctx.pop3.keep;
    out.push_str(&format!("delete = {delete}\n"));
    if let (true, true, Some(days)) = (pop3, ctx.pop3.keep, ctx.pop3.keep_days) {
        out.push_str(&format!("delete_after = {days}\n"));
    }

    let mut notes = ctx.password_notes(true, true);
    if tls {
        notes.push(format!(
            "Certificates are checked against {CA_BUNDLE} (Debian/Ubuntu); on other systems point \
             ca_certs at the system CA bundle."
        ));
    }
    if !pop3 {
        notes.push("IMAP: getmail leaves messages on the server and fetches only new ones.".into());
    }
    notes.extend(ctx.pop3_notes(true));
    notes.extend(ctx.plain_notes());
    let name = format!("getmailrc-{}", ctx.account);
    let mut file = ctx.file(
        "getmail/getmailrc",
        Some(&format!("~/.getmail/{name}")),
        out,
        ctx.embeds_password(),
        notes,
    );
    file.install = super::Install::FileInDir {
        dirs: vec!["~/.config/getmail", "~/.getmail"],
        name: name.clone(),
    };
    file.dirs = vec![super::NeededDir {
        path: maildir,
        maildir: true,
    }];
    file.start = Some(format!("getmail --rcfile {name}"));
    file.fetches = true;
    Ok(vec![file])
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{render, WriteError, WriteOptions};

    #[test]
    fn pop3_keeps_with_delete_after() {
        let f = &render("getmail", &pop3(), &WriteOptions::default()).unwrap()[0];
        let c = &f.contents;
        assert!(c.contains("type = SimplePOP3SSLRetriever\n"), "{c}");
        assert!(
            c.contains("password_command = ('/bin/sh', '-c', 'pass show mail/bob@example.org')\n")
        );
        assert!(c.contains("delete = false\ndelete_after = 14\n"));
        assert!(c.contains("read_all = false\n"));
    }

    #[test]
    fn starttls_is_refused() {
        let mut s = pop3();
        s.incoming = server("pop3://pop.example.org:110", "bob");
        assert!(matches!(
            render("getmail", &s, &WriteOptions::default()),
            Err(WriteError::Unsupported { .. })
        ));
    }
}
