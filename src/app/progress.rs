//! Progress events, streamed as results arrive (the final report is still sorted).

use std::sync::Arc;

use crate::report::{EndpointReport, LoginStatus, Status};

#[derive(Debug, Clone)]
pub enum Event {
    /// Work on an endpoint began.
    EndpointStarted {
        url: String,
    },
    /// An endpoint is done: its status and, for `check`, the login outcome.
    EndpointFinished {
        url: String,
        status: Status,
        login: Option<LoginStatus>,
    },
    /// A discovery source began / finished (`found`, `not-found`, `error`, `timeout`).
    SourceStarted {
        name: String,
    },
    SourceFinished {
        name: String,
        result: String,
    },
}

/// Where events go. Cheap to clone; `Progress::none()` discards.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<dyn Fn(Event) + Send + Sync>>);

impl Progress {
    pub fn none() -> Self {
        Progress(None)
    }
    pub fn new(f: impl Fn(Event) + Send + Sync + 'static) -> Self {
        Progress(Some(Arc::new(f)))
    }
    pub fn emit(&self, e: Event) {
        if let Some(f) = &self.0 {
            f(e)
        }
    }
    pub fn finished(&self, r: &EndpointReport) {
        self.emit(Event::EndpointFinished {
            url: r.url.clone(),
            status: r.status,
            login: r.login.as_ref().map(|l| l.status),
        });
    }
}
