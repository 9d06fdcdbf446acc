//! Finding, fetching and deleting the test message once new mail showed (see the parent
//! module for the two ways: one flight with SEARCHRES, or async-imap's calls one by one).

use std::time::Instant;

use async_imap::imap_proto::{
    AttributeValue, MessageSection, RequestId, Response, SectionPath, Status,
};
use futures_util::TryStreamExt;

use super::{Event, Found, ImapWatch};
use crate::app::roundtrip::message::carries_token;
use crate::report::roundtrip::Cleanup;
use crate::report::{Code, Problem};

pub(super) enum FlightResult {
    Done(Option<Found>),
    Unsupported,
}

impl ImapWatch {
    pub(super) async fn find_in_one_flight(
        &mut self,
        criteria: &str,
        token: &str,
        seen_at: Instant,
        deadline: Instant,
    ) -> Result<FlightResult, Problem> {
        let idle = self.idling.take();
        if idle.is_some() {
            self.send_done(deadline).await?;
        }
        let search = self
            .send(&format!("UID SEARCH RETURN (SAVE) {criteria}"), deadline)
            .await?;
        let fetch = self
            .send("UID FETCH $ (UID BODY.PEEK[HEADER])", deadline)
            .await?;
        let store = self
            .send("UID STORE $ +FLAGS.SILENT (\\Deleted)", deadline)
            .await?;
        let expunge = self.send("UID EXPUNGE $", deadline).await?;
        let until = self.phase(deadline);
        let mut open: Vec<RequestId> = [idle, Some(search.clone()), Some(fetch.clone())]
            .into_iter()
            .flatten()
            .chain([store.clone(), expunge.clone()])
            .collect();
        let mut headers: Option<(Vec<u8>, Instant)> = None;
        let mut expunged = false;
        let mut outcomes: Vec<(RequestId, bool, String)> = Vec::new();
        while !open.is_empty() {
            let event = self
                .must_next(until, "finding the test message", |r| match r {
                    Response::Fetch(_, attrs) => match header_section(attrs) {
                        Some(h) if carries_token(h, token) => Event::Headers(h.to_vec()),
                        _ => Event::Other,
                    },
                    Response::Expunge(_) => Event::Expunge,
                    Response::Done {
                        tag,
                        status,
                        outcome,
                    } => Event::Done(
                        tag.clone(),
                        *status == Status::Ok,
                        format!(
                            "{status:?} {}",
                            outcome.information.as_deref().unwrap_or_default()
                        ),
                    ),
                    _ => Event::Other,
                })
                .await?;
            match event {
                Event::Headers(h) if headers.is_none() => headers = Some((h, Instant::now())),
                Event::Expunge if headers.is_some() => expunged = true,
                Event::Done(tag, ok, text) => {
                    open.retain(|t| *t != tag);
                    outcomes.push((tag, ok, text));
                }
                _ => {}
            }
        }
        let done_at = Instant::now();
        let status_of = |id: &RequestId| {
            outcomes
                .iter()
                .find(|(t, _, _)| t == id)
                .map(|(_, ok, text)| (*ok, text.clone()))
                .unwrap_or((false, String::new()))
        };
        let (search_ok, _) = status_of(&search);
        if !search_ok && headers.is_none() {
            return Ok(FlightResult::Unsupported);
        }
        let Some((headers, fetched_at)) = headers else {
            return Ok(FlightResult::Done(None));
        };
        let (store_ok, store_text) = status_of(&store);
        let (expunge_ok, expunge_text) = status_of(&expunge);
        let (removed, cleanup_problem) = if !store_ok {
            (
                None,
                Some(cleanup_failed(&format!(
                    "the server refused to flag it \\Deleted: {store_text}"
                ))),
            )
        } else if !expunge_ok || !expunged {
            (
                None,
                Some(cleanup_failed(&format!(
                    "UID EXPUNGE of exactly this message did not remove it: {expunge_text}"
                ))),
            )
        } else {
            (Some((Cleanup::Expunged, done_at)), None)
        };
        Ok(FlightResult::Done(Some(Found {
            seen_at,
            fetched_at,
            headers,
            removed,
            cleanup_problem,
        })))
    }

    pub(super) async fn find_step_by_step(
        &mut self,
        criteria: &str,
        token: &str,
        seen_at: Instant,
        deadline: Instant,
    ) -> Result<Option<Found>, Problem> {
        let until = self.phase(deadline);
        let found = tokio::time::timeout_at(until.into(), self.session.uid_search(criteria)).await;
        let uids = match found {
            Err(_) => {
                return Err(Problem::error(
                    Code::Timeout,
                    "the IMAP server did not answer the SEARCH in time",
                ))
            }
            Ok(Err(e)) => return Err(self.problem("searching for the test message", e)),
            Ok(Ok(uids)) => uids,
        };
        let Some(uid) = uids.into_iter().max() else {
            return Ok(None);
        };
        let until = self.phase(deadline);
        let fetched = tokio::time::timeout_at(until.into(), async {
            self.session
                .uid_fetch(uid.to_string(), "(UID BODY.PEEK[HEADER])")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await;
        let fetches = match fetched {
            Err(_) => {
                return Err(Problem::error(
                    Code::Timeout,
                    "the IMAP server did not answer the FETCH in time",
                ))
            }
            Ok(Err(e)) => return Err(self.problem("fetching the test message's headers", e)),
            Ok(Ok(f)) => f,
        };
        let Some(headers) = fetches
            .iter()
            .filter_map(|f| f.header())
            .find(|h| carries_token(h, token))
            .map(<[u8]>::to_vec)
        else {
            return Ok(None);
        };
        let fetched_at = Instant::now();
        let until = self.phase(deadline);
        let stored = tokio::time::timeout_at(until.into(), async {
            self.session
                .uid_store(uid.to_string(), "+FLAGS.SILENT (\\Deleted)")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await;
        let store_problem = match stored {
            Err(_) => Some(cleanup_failed(
                "the server did not answer the STORE in time",
            )),
            Ok(Err(e)) => Some(cleanup_failed(&format!(
                "flagging it \\Deleted failed: {e}"
            ))),
            Ok(Ok(_)) => None,
        };
        let (removed, cleanup_problem) = match store_problem {
            Some(p) => (None, Some(p)),
            None if !self.uidplus => (Some((Cleanup::FlaggedDeleted, Instant::now())), None),
            None => {
                let until = self.phase(deadline);
                let expunged = tokio::time::timeout_at(until.into(), async {
                    self.session
                        .uid_expunge(uid.to_string())
                        .await?
                        .try_collect::<Vec<_>>()
                        .await
                })
                .await;
                match expunged {
                    Ok(Ok(_)) => (Some((Cleanup::Expunged, Instant::now())), None),
                    Ok(Err(e)) => (
                        None,
                        Some(cleanup_failed(&format!("UID EXPUNGE failed: {e}"))),
                    ),
                    Err(_) => (
                        None,
                        Some(cleanup_failed(
                            "the server did not answer UID EXPUNGE in time",
                        )),
                    ),
                }
            }
        };
        Ok(Some(Found {
            seen_at,
            fetched_at,
            headers,
            removed,
            cleanup_problem,
        }))
    }
}

fn header_section<'a>(attrs: &'a [AttributeValue<'a>]) -> Option<&'a [u8]> {
    attrs.iter().find_map(|a| match a {
        AttributeValue::BodySection {
            section: Some(SectionPath::Full(MessageSection::Header)),
            data: Some(h),
            ..
        }
        | AttributeValue::Rfc822Header(Some(h)) => Some(h.as_ref()),
        _ => None,
    })
}

fn cleanup_failed(detail: &str) -> Problem {
    Problem::error(
        Code::RoundtripCleanupFailed,
        format!("the test message arrived but was not deleted: {detail}"),
    )
}
