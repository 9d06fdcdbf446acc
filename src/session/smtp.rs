//! SMTP submission session driver: greeting, EHLO, STARTTLS.

use zeroize::Zeroizing;

use super::conn::Conn;
use super::login::{Credentials, Method, Outcome};
use super::{starttls_problem, upgrade_after_starttls, SessionConfig};
use crate::model::timing::PhaseName;
use crate::model::{Endpoint, Security};
use crate::proto::sasl::{self, SaslClient};
use crate::proto::smtp::{self, Reply, ReplyParser};
use crate::report::{Code, EndpointReport, Problem};

/// Returns the EHLO reply read over the secured connection.
pub(super) async fn establish_state(
    conn: &mut Conn,
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    rep: &mut EndpointReport,
) -> Result<Reply, Vec<Problem>> {
    cfg.begin_phase(rep, PhaseName::Greeting);
    let greeting = read_reply(
        conn,
        cfg,
        cfg.timeouts.greeting,
        "the greeting",
        Code::GreetingTimeout,
    )
    .await?;
    rep.greeting = Some(format!("{} {}", greeting.code, greeting.text()));
    if let Err(e) = smtp::check_greeting(&greeting) {
        let code = if (400..600).contains(&greeting.code) {
            Code::ServerRefused
        } else {
            Code::ProtocolError
        };
        return Err(vec![Problem::error(code, e.to_string())]);
    }
    cfg.begin_phase(rep, PhaseName::Capabilities);
    let mut ehlo = send_ehlo(conn, cfg).await?;
    if endpoint.security == Security::StartTls {
        rep.capabilities_before_tls = Some(smtp::ehlo_capabilities(&ehlo));
        smtp::starttls_offered(&smtp::ehlo_keywords(&ehlo))
            .map_err(|r| vec![starttls_problem(r)])?;
        cfg.begin_phase(rep, PhaseName::Starttls);
        let starttls = super::starttls_bytes(cfg, smtp::command("STARTTLS"), smtp::command("RSET"));
        conn.send(&starttls, None, cfg.phase(cfg.timeouts.command))
            .await
            .map_err(|p| vec![p])?;
        let reply = read_reply(
            conn,
            cfg,
            cfg.timeouts.command,
            "the STARTTLS reply",
            Code::Timeout,
        )
        .await?;
        smtp::check_starttls_reply(&reply).map_err(|r| vec![starttls_problem(r)])?;
        upgrade_after_starttls(conn, endpoint, cfg, rep).await?;
        super::injection_verdict(conn, cfg, rep, "RSET").await?;
        // Pre-TLS EHLO is discarded; RFC 3207 §4.2 requires a fresh EHLO.
        cfg.begin_phase(rep, PhaseName::Capabilities);
        ehlo = send_ehlo(conn, cfg).await?;
    }
    rep.capabilities = smtp::ehlo_capabilities(&ehlo);
    rep.auth_mechanisms = smtp::auth_mechanisms(&ehlo);
    Ok(ehlo)
}

async fn send_ehlo(conn: &mut Conn, cfg: &SessionConfig) -> Result<Reply, Vec<Problem>> {
    conn.send(
        &smtp::command(&format!("EHLO {}", cfg.ehlo_name)),
        None,
        cfg.phase(cfg.timeouts.command),
    )
    .await
    .map_err(|p| vec![p])?;
    let reply = read_reply(
        conn,
        cfg,
        cfg.timeouts.command,
        "the EHLO reply",
        Code::Timeout,
    )
    .await?;
    if reply.code != 250 {
        return Err(vec![Problem::error(
            Code::ProtocolError,
            format!("the server refused EHLO: {} {}", reply.code, reply.text()),
        )]);
    }
    Ok(reply)
}

pub(super) async fn read_reply(
    conn: &mut Conn,
    cfg: &SessionConfig,
    phase: std::time::Duration,
    what: &str,
    timeout_code: Code,
) -> Result<Reply, Vec<Problem>> {
    let mut parser = ReplyParser::new();
    conn.read(cfg.phase(phase), what, timeout_code, |r| parser.next(r))
        .await
        .map_err(|p| vec![p])
}

/// Only `235` is success; `334` challenges are bounded; anything else is failure or unverified.
pub(super) async fn login(
    conn: &mut Conn,
    method: Method,
    creds: &Credentials,
    cfg: &SessionConfig,
    endpoint: &Endpoint,
) -> Outcome {
    let Method::Sasl(mech) = method else {
        return Outcome::Unverified("not an SMTP method".into());
    };
    let mut client = SaslClient::new(
        mech,
        &creds.username,
        creds.secret.expose(),
        &endpoint.host,
        endpoint.port,
    );
    let line = match client.initial_response() {
        Some(ir) => {
            let enc = sasl::encode_response(&ir);
            Zeroizing::new(format!(
                "AUTH {} {}\r\n",
                mech.name(),
                if enc.is_empty() { "=" } else { &enc }
            ))
        }
        None => Zeroizing::new(format!("AUTH {}\r\n", mech.name())),
    };
    let shown = format!("AUTH {} <redacted>", mech.name());
    if let Err(p) = conn
        .send(
            line.as_bytes(),
            Some(&shown),
            cfg.phase(cfg.timeouts.command),
        )
        .await
    {
        return Outcome::Unverified(p.message);
    }
    loop {
        let reply = match read_reply(
            conn,
            cfg,
            cfg.timeouts.command,
            "the AUTH reply",
            Code::Timeout,
        )
        .await
        {
            Ok(r) => r,
            Err(p) => {
                return Outcome::Unverified(
                    p.into_iter().next().map(|p| p.message).unwrap_or_default(),
                )
            }
        };
        match reply.code {
            334 => {
                let challenge = reply.lines.first().cloned().unwrap_or_default();
                match sasl::decode_challenge(&challenge).and_then(|c| client.step(&c)) {
                    Ok(r) => {
                        let line = Zeroizing::new(format!("{}\r\n", &*sasl::encode_response(&r)));
                        if let Err(p) = conn
                            .send(
                                line.as_bytes(),
                                Some("<redacted SASL response>"),
                                cfg.phase(cfg.timeouts.command),
                            )
                            .await
                        {
                            return Outcome::Unverified(p.message);
                        }
                    }
                    Err(e) => {
                        let _ = conn
                            .send(b"*\r\n", None, cfg.phase(cfg.timeouts.command))
                            .await;
                        return Outcome::Unverified(e.to_string());
                    }
                }
            }
            235 => {
                return match client.check_success() {
                    Ok(()) => Outcome::Ok(format!("235 {}", reply.text())),
                    Err(e) => Outcome::Unverified(e.to_string()),
                }
            }
            // 535 bad credentials, 534 mechanism too weak / app password, 538 encryption
            // required; 454 (4.7.0) a temporary failure: all clear refusals, classified by
            // proto::refusal.
            400..=599 => return Outcome::Refused(format!("{} {}", reply.code, reply.text())),
            code => {
                return Outcome::Unverified(format!(
                    "{code} {} is not a login success (only 235 is)",
                    reply.text()
                ))
            }
        }
    }
}

pub(super) async fn quit(conn: &mut Conn) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    let _ = conn.send(&smtp::command("QUIT"), None, deadline).await;
}
