//! POP3 session driver: greeting, CAPA, STLS.

use super::conn::Conn;
use super::{starttls_problem, upgrade_after_starttls, SessionConfig};
use crate::model::{Endpoint, Security};
use crate::proto::pop3::{self, MultiLine, Reply};
use crate::report::{Code, EndpointReport, Problem};

/// The POP3 state a login can continue from.
pub struct Pop3State {
    pub apop_timestamp: Option<String>,
    pub capa: Vec<String>,
}

pub(super) async fn establish(
    conn: &mut Conn,
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    rep: &mut EndpointReport,
) -> Result<(), Vec<Problem>> {
    establish_state(conn, endpoint, cfg, rep).await.map(|_| ())
}

pub(super) async fn establish_state(
    conn: &mut Conn,
    endpoint: &Endpoint,
    cfg: &SessionConfig,
    rep: &mut EndpointReport,
) -> Result<Pop3State, Vec<Problem>> {
    let greeting = conn
        .read(cfg.phase(cfg.timeouts.greeting), "the greeting", Code::GreetingTimeout, pop3::next_reply)
        .await
        .map_err(|p| vec![p])?;
    let g = match pop3::check_greeting(&greeting) {
        Ok(g) => g,
        Err(e) => {
            let code = if matches!(greeting, Reply::Err(_)) { Code::ServerRefused } else { Code::ProtocolError };
            return Err(vec![Problem::error(code, e.to_string())]);
        }
    };
    rep.greeting = Some(format!("+OK {}", g.text));
    let mut apop_timestamp = g.apop_timestamp;
    let mut capa = capa(conn, cfg).await?;
    if endpoint.security == Security::StartTls {
        rep.capabilities_before_tls = Some(pop3::capabilities(&capa));
        pop3::starttls_offered(&pop3::capabilities(&capa)).map_err(|r| vec![starttls_problem(r)])?;
        conn.send(&pop3::command("STLS"), None, cfg.phase(cfg.timeouts.command))
            .await
            .map_err(|p| vec![p])?;
        let reply = conn
            .read(cfg.phase(cfg.timeouts.command), "the STLS reply", Code::Timeout, pop3::next_reply)
            .await
            .map_err(|p| vec![p])?;
        pop3::check_stls_reply(&reply).map_err(|r| vec![starttls_problem(r)])?;
        upgrade_after_starttls(conn, endpoint, cfg, rep).await?;
        // The APOP timestamp was learned in plaintext; it stays usable only because APOP's
        // digest reveals nothing new, but capabilities are read again.
        capa = capa_after_tls(conn, cfg).await?;
        apop_timestamp = apop_timestamp.filter(|_| true);
    }
    rep.capabilities = pop3::capabilities(&capa);
    rep.auth_mechanisms = pop3::auth_mechanisms(&capa);
    Ok(Pop3State { apop_timestamp, capa })
}

/// `CAPA`; a server without it (`-ERR`) simply has no capabilities to show.
async fn capa(conn: &mut Conn, cfg: &SessionConfig) -> Result<Vec<String>, Vec<Problem>> {
    conn.send(&pop3::command("CAPA"), None, cfg.phase(cfg.timeouts.command))
        .await
        .map_err(|p| vec![p])?;
    let deadline = cfg.phase(cfg.timeouts.command);
    let status = conn
        .read(deadline, "the CAPA reply", Code::Timeout, pop3::next_reply)
        .await
        .map_err(|p| vec![p])?;
    match status {
        Reply::Ok(_) => {
            let mut body = MultiLine::new();
            conn.read(deadline, "the CAPA list", Code::Timeout, |r| body.next(r))
                .await
                .map_err(|p| vec![p])
        }
        Reply::Err(_) => Ok(vec![]),
        Reply::Continuation(t) => Err(vec![Problem::error(Code::ProtocolError, format!("unexpected '+ {t}' to CAPA"))]),
    }
}

async fn capa_after_tls(conn: &mut Conn, cfg: &SessionConfig) -> Result<Vec<String>, Vec<Problem>> {
    capa(conn, cfg).await
}
