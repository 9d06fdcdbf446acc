//! IMAP session driver: greeting, CAPABILITY, STARTTLS.

use super::conn::Conn;
use super::{starttls_problem, upgrade_after_starttls, SessionConfig};
use crate::model::{Endpoint, Security};
use crate::proto::imap::{self, GreetingError, Response, ResponseParser, Status, Step, Tags};
use crate::report::{Code, EndpointReport, Problem};

/// The IMAP state a login can continue from.
pub struct ImapState {
    pub parser: ResponseParser,
    pub tags: Tags,
    pub capabilities: Vec<String>,
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
) -> Result<ImapState, Vec<Problem>> {
    let mut parser = ResponseParser::new();
    let mut tags = Tags::default();
    let greeting = conn
        .read(cfg.phase(cfg.timeouts.greeting), "the greeting", Code::GreetingTimeout, |r| parser.next(r))
        .await
        .map_err(|p| vec![p])?;
    rep.greeting = Some(describe(&greeting));
    match imap::check_greeting(&greeting, conn.is_tls()) {
        Ok(_) => {}
        Err(GreetingError::PreAuthBeforeTls(text)) => {
            return Err(vec![starttls_problem(crate::proto::StartTlsRefusal::PreAuth(text))])
        }
        Err(GreetingError::Bye(text)) => {
            return Err(vec![Problem::error(Code::ServerRefused, format!("the server said BYE: {text}"))])
        }
        Err(GreetingError::Unexpected(text)) => {
            return Err(vec![Problem::error(Code::ProtocolError, format!("not an IMAP greeting: {text}"))])
        }
    }
    let mut caps = capability(conn, &mut parser, &mut tags, cfg).await?;
    if endpoint.security == Security::StartTls {
        rep.capabilities_before_tls = Some(caps.clone());
        imap::starttls_offered(&caps).map_err(|r| vec![starttls_problem(r)])?;
        let (status, text) = run(conn, &mut parser, &mut tags, "STARTTLS", cfg).await?;
        imap::check_starttls_reply(status, &text).map_err(|r| vec![starttls_problem(r)])?;
        upgrade_after_starttls(conn, endpoint, cfg, rep).await?;
        // Everything learned before TLS is discarded and read again.
        parser = ResponseParser::new();
        caps = capability(conn, &mut parser, &mut tags, cfg).await?;
    }
    rep.auth_mechanisms = imap::auth_mechanisms(&caps);
    rep.capabilities = caps.clone();
    Ok(ImapState {
        parser,
        tags,
        capabilities: caps,
    })
}

/// `CAPABILITY`, collecting the untagged reply (or the code on the tagged OK).
async fn capability(
    conn: &mut Conn,
    parser: &mut ResponseParser,
    tags: &mut Tags,
    cfg: &SessionConfig,
) -> Result<Vec<String>, Vec<Problem>> {
    let tag = tags.next_tag();
    conn.send(&imap::command(&tag, "CAPABILITY"), None, cfg.phase(cfg.timeouts.command))
        .await
        .map_err(|p| vec![p])?;
    let mut caps = None;
    let deadline = cfg.phase(cfg.timeouts.command);
    loop {
        let resp = read_response(conn, parser, deadline, "the CAPABILITY reply").await?;
        if let Some(c) = resp.capabilities() {
            caps = Some(c);
        }
        match imap::expect_completion(&resp, &tag) {
            Ok(Step::Data) => {}
            Ok(Step::Done { status: Status::Ok, .. }) => break,
            Ok(Step::Done { status, text, .. }) => {
                return Err(vec![Problem::error(
                    Code::ProtocolError,
                    format!("CAPABILITY failed: {status:?} {text}"),
                )])
            }
            Err(e) => return Err(vec![Problem::error(Code::ProtocolError, e.to_string())]),
        }
    }
    caps.ok_or_else(|| vec![Problem::error(Code::ProtocolError, "the server sent no CAPABILITY data")])
}

/// Sends a simple command and waits for its tagged completion.
pub(super) async fn run(
    conn: &mut Conn,
    parser: &mut ResponseParser,
    tags: &mut Tags,
    cmd: &str,
    cfg: &SessionConfig,
) -> Result<(Status, String), Vec<Problem>> {
    let tag = tags.next_tag();
    conn.send(&imap::command(&tag, cmd), None, cfg.phase(cfg.timeouts.command))
        .await
        .map_err(|p| vec![p])?;
    let deadline = cfg.phase(cfg.timeouts.command);
    let what = format!("the reply to {cmd}");
    loop {
        let resp = read_response(conn, parser, deadline, &what).await?;
        match imap::expect_completion(&resp, &tag) {
            Ok(Step::Data) => {}
            Ok(Step::Done { status, text, .. }) => return Ok((status, text)),
            Err(e) => return Err(vec![Problem::error(Code::ProtocolError, e.to_string())]),
        }
    }
}

async fn read_response(
    conn: &mut Conn,
    parser: &mut ResponseParser,
    deadline: std::time::Instant,
    what: &str,
) -> Result<Response, Vec<Problem>> {
    conn.read(deadline, what, Code::Timeout, |r| parser.next(r))
        .await
        .map_err(|p| vec![p])
}

fn describe(resp: &Response) -> String {
    match resp {
        Response::Untagged { keyword, code, text, .. } => match code {
            Some(c) => format!("{keyword} [{c}] {text}"),
            None => format!("{keyword} {text}"),
        },
        Response::Tagged { tag, status, text, .. } => format!("{tag} {status:?} {text}"),
        Response::Continuation { text } => format!("+ {text}"),
    }
}
