//! The IMAP machine after a successful login: CAPABILITY (when the OK carried none),
//! GETQUOTAROOT and STATUS, LIST, and LOGOUT, pipelined; or the session is kept.

use super::{AfterLogin, Client, State};
use crate::proto::client::{Event, QuotaFacts, Step, Transmit};
use crate::proto::folders::{self, ListForm};
use crate::proto::imap::{self, has_quota};

impl Client {
    /// After a success: the capabilities (when the OK carried none and they are needed), the
    /// quota and the folders (when asked for, once), pipelined; then goodbye, or the session
    /// is kept. Commands that depend on the capabilities after login (GETQUOTAROOT needs
    /// QUOTA, the LIST form SPECIAL-USE or XLIST) follow their answer when the OK carried
    /// none: one more round trip, only for servers that don't send them with the OK.
    pub(super) fn after_login(&mut self) {
        let (quota, list, keep) = match &mut self.login {
            Some(run) => {
                run.logged_in = true;
                (
                    std::mem::take(&mut run.req.quota),
                    std::mem::take(&mut run.req.folders),
                    run.req.keep,
                )
            }
            None => (false, false, false),
        };
        // Servers announce more after login (Dovecot: QUOTA, SPECIAL-USE).
        let caps = !self.caps_after_login && (keep || list || (quota && !has_quota(&self.caps)));
        if !quota && !list && !caps {
            return self.finish_kept(keep);
        }
        self.out.step(Step::Quota);
        let mut after = AfterLogin {
            end: String::new(),
            quota: quota.then(QuotaFacts::default),
            list: None,
            list_pending: list,
            quota_pending: quota,
            keep,
        };
        let mut bytes = Vec::new();
        if caps {
            after.end = self.tags.next_tag();
            bytes.extend(imap::command(&after.end, "CAPABILITY"));
        }
        if quota {
            after.end = self.tags.next_tag();
            bytes.extend(imap::command(&after.end, "STATUS INBOX (MESSAGES)"));
        }
        if caps {
            self.out.send(Transmit::plain(bytes));
            self.state = State::AfterLogin(Box::new(after));
        } else {
            self.second_stage(after, bytes);
        }
    }

    /// The commands that depend on the capabilities after login, and the goodbye, appended
    /// to `bytes` and sent; finishes at once when nothing is left to wait for.
    pub(super) fn second_stage(&mut self, mut after: AfterLogin, mut bytes: Vec<u8>) {
        if std::mem::take(&mut after.quota_pending) && has_quota(&self.caps) {
            after.end = self.tags.next_tag();
            bytes.extend(imap::command(&after.end, "GETQUOTAROOT INBOX"));
        }
        if std::mem::take(&mut after.list_pending) {
            let form = ListForm::for_capabilities(&self.caps);
            after.end = self.tags.next_tag();
            bytes.extend(imap::command(&after.end, form.command()));
            after.list = Some((form, Vec::new()));
        }
        let logout = !after.keep;
        if logout {
            bytes.extend(imap::command(&self.tags.next_tag(), "LOGOUT"));
        }
        if !bytes.is_empty() {
            self.out.send(Transmit::plain(bytes));
        }
        if after.end.is_empty() {
            // Nothing to wait for (LOGOUT's answer is not awaited).
            return self.after_login_done(after);
        }
        self.state = State::AfterLogin(Box::new(after));
    }

    /// The post-login pipeline is answered: its facts, then the end (LOGOUT went with it).
    pub(super) fn after_login_done(&mut self, mut after: AfterLogin) {
        if after.list_pending || after.quota_pending {
            after.end = String::new();
            return self.second_stage(after, Vec::new());
        }
        if let Some(q) = after.quota {
            self.out.event(Event::Quota(q));
        }
        if let Some((form, entries)) = after.list {
            self.out
                .event(Event::Folders(Box::new(folders::choose(&entries, form))));
        }
        if after.keep {
            self.finish_kept(true);
        } else {
            self.finish(false);
        }
    }

    /// After a success: the session is kept (no LOGOUT), or the run ends.
    pub(super) fn finish_kept(&mut self, keep: bool) {
        if !keep {
            return self.finish_run();
        }
        let remaining = self.take_remaining();
        self.state = State::Finished;
        self.out.event(Event::Kept {
            capabilities: self.caps.clone(),
        });
        self.out.event(Event::Finished { remaining });
    }
}
