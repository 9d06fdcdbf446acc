//! SMTP submission session driver: greeting, EHLO, STARTTLS.

use super::conn::Conn;
use super::{starttls_problem, upgrade_after_starttls, SessionConfig};
use crate::model::{Endpoint, Security};
use crate::proto::smtp::{self, Reply, ReplyParser};
use crate::report::{Code, EndpointReport, Problem};

pub(super) async fn establish(
    conn: &mut Conn,
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    rep: &mut EndpointReport,
) -> Result<(), Vec<Problem>> {
    establish_state(conn, endpoint, cfg, rep).await.map(|_| ())
}

/// Returns the EHLO reply read over the secured connection.
pub(super) async fn establish_state(
    conn: &mut Conn,
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    rep: &mut EndpointReport,
) -> Result<Reply, Vec<Problem>> {
    let greeting = read_reply(conn, cfg, cfg.timeouts.greeting, "the greeting", Code::GreetingTimeout).await?;
    rep.greeting = Some(format!("{} {}", greeting.code, greeting.text()));
    if let Err(e) = smtp::check_greeting(&greeting) {
        let code = if (400..600).contains(&greeting.code) { Code::ServerRefused } else { Code::ProtocolError };
        return Err(vec![Problem::error(code, e.to_string())]);
    }
    let mut ehlo = ehlo(conn, cfg).await?;
    if endpoint.security == Security::StartTls {
        rep.capabilities_before_tls = Some(smtp::ehlo_capabilities(&ehlo));
        smtp::starttls_offered(&smtp::ehlo_keywords(&ehlo)).map_err(|r| vec![starttls_problem(r)])?;
        conn.send(&smtp::command("STARTTLS"), None, cfg.phase(cfg.timeouts.command))
            .await
            .map_err(|p| vec![p])?;
        let reply = read_reply(conn, cfg, cfg.timeouts.command, "the STARTTLS reply", Code::Timeout).await?;
        smtp::check_starttls_reply(&reply).map_err(|r| vec![starttls_problem(r)])?;
        upgrade_after_starttls(conn, endpoint, cfg, rep).await?;
        // Pre-TLS EHLO is discarded; RFC 3207 §4.2 requires a fresh EHLO.
        ehlo = ehlo_again(conn, cfg).await?;
    }
    rep.capabilities = smtp::ehlo_capabilities(&ehlo);
    rep.auth_mechanisms = smtp::auth_mechanisms(&ehlo);
    Ok(ehlo)
}

async fn ehlo(conn: &mut Conn, cfg: &SessionConfig) -> Result<Reply, Vec<Problem>> {
    conn.send(&smtp::command(&format!("EHLO {}", cfg.ehlo_name)), None, cfg.phase(cfg.timeouts.command))
        .await
        .map_err(|p| vec![p])?;
    let reply = read_reply(conn, cfg, cfg.timeouts.command, "the EHLO reply", Code::Timeout).await?;
    if reply.code != 250 {
        return Err(vec![Problem::error(
            Code::ProtocolError,
            format!("the server refused EHLO: {} {}", reply.code, reply.text()),
        )]);
    }
    Ok(reply)
}

async fn ehlo_again(conn: &mut Conn, cfg: &SessionConfig) -> Result<Reply, Vec<Problem>> {
    ehlo(conn, cfg).await
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
