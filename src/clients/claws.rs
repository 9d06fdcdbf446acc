//! Claws Mail: one `[Account: N]` section of accountrc. Values are raw to the end
//! of the line, so only line breaks (refused everywhere) could change the
//! structure. accountrc holds every Claws account, so the section is meant to be
//! merged by hand rather than installed over the user's file.

use crate::model::{AuthMethod, Protocol, Security};

use super::{stable_digest, Ctx, OutputFile, WriteError};

pub fn render(ctx: &Ctx<'_>) -> Result<Vec<OutputFile>, WriteError> {
    let in_enc = ctx.password_auth("incoming", ctx.incoming)?;
    let out_enc = ctx.password_auth("outgoing", ctx.outgoing)?;
    let in_user = ctx.username("incoming", ctx.incoming)?;
    // A stable account number, unlikely to clash with existing accounts (1, 2, …).
    let digest = stable_digest(&["claws-mail", ctx.address, &ctx.account]);
    let number = 1000 + (u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % 9000);

    let mut out = String::new();
    out.push_str(&format!("# {}\n", super::header(ctx)));
    out.push_str(&format!("[Account: {number}]\n"));
    let mut kv = |key: &str, value: &str| out.push_str(&format!("{key}={value}\n"));
    kv("account_name", &ctx.account);
    kv("is_default", "0");
    kv("name", ctx.display_name.unwrap_or(""));
    kv("address", ctx.address);
    let pop3 = ctx.incoming.endpoint.protocol == Protocol::Pop3;
    kv("protocol", if pop3 { "0" } else { "3" });
    kv("receive_server", &ctx.incoming.endpoint.host);
    kv("smtp_server", &ctx.outgoing.endpoint.host);
    kv("user_id", in_user);
    let ssl = |security: Security| match security {
        Security::Tls => "1",
        Security::StartTls => "2",
        Security::Plain => "0",
    };
    let port = ctx.incoming.endpoint.port.to_string();
    if pop3 {
        kv("ssl_pop", ssl(ctx.incoming.endpoint.security));
        kv("set_popport", "1");
        kv("pop_port", &port);
        // The table allows only APOP as a POP3 challenge-response for Claws.
        kv("use_apop_auth", if in_enc.is_some() { "1" } else { "0" });
        // remove_mail + message_leave_time: delete N days after download (0 = at once).
        match (ctx.pop3.keep, ctx.pop3.keep_days) {
            (true, None) => kv("remove_mail", "0"),
            (true, Some(days)) => {
                kv("remove_mail", "1");
                kv("message_leave_time", &days.to_string());
                kv("message_leave_hour", "0");
            }
            (false, _) => {
                kv("remove_mail", "1");
                kv("message_leave_time", "0");
                kv("message_leave_hour", "0");
            }
        }
    } else {
        kv("ssl_imap", ssl(ctx.incoming.endpoint.security));
        kv("set_imapport", "1");
        kv("imap_port", &port);
        // 0 = automatic, 2 = CRAM-MD5 (the table's word).
        kv("imap_auth_method", in_enc.unwrap_or("0"));
    }
    kv("ssl_smtp", ssl(ctx.outgoing.endpoint.security));
    kv("set_smtpport", "1");
    kv("smtp_port", &ctx.outgoing.endpoint.port.to_string());
    if ctx.outgoing.auth == AuthMethod::None {
        kv("use_smtp_auth", "0");
    } else {
        let out_user = ctx.username("outgoing", ctx.outgoing)?;
        kv("use_smtp_auth", "1");
        kv("smtp_auth_method", out_enc.unwrap_or("0"));
        kv(
            "smtp_user_id",
            if out_user == in_user { "" } else { out_user },
        );
    }

    let mut notes = vec![
        "accountrc holds all Claws Mail accounts: quit Claws Mail, then append this section to \
         ~/.claws-mail/accountrc (keeping the existing ones), and start Claws Mail again."
            .to_string(),
    ];
    notes.extend(ctx.password_notes(false, false));
    notes.extend(ctx.pop3_notes(true));
    notes.extend(ctx.plain_notes());
    Ok(vec![ctx.file(
        "claws-mail/accountrc",
        None,
        out,
        false,
        notes,
    )])
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{render, WriteOptions};

    #[test]
    fn pop3_account_section() {
        let f = &render("claws-mail", &pop3(), &WriteOptions::default()).unwrap()[0];
        let c = &f.contents;
        assert!(c.contains("\nprotocol=0\n"), "{c}");
        assert!(c.contains("\nssl_pop=1\n"));
        assert!(c.contains("\nssl_smtp=2\n"));
        assert!(c.contains("\nremove_mail=1\nmessage_leave_time=14\n"));
        assert!(f.install_path.is_none());
    }
}
