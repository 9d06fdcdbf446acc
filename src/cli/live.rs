//! Live progress on stderr: a line per endpoint (and discovery source), updated as results
//! arrive. Only on a terminal, never with NO_COLOR or --json (no escape codes there).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::app::progress::{Event, Progress};
use crate::report::escape::terminal_safe;
use crate::report::{LoginStatus, Status};

/// The line of a check still running, and of a finished one.
const RUNNING: &str = "  {spinner} {msg}";
const FINISHED: &str = "  {msg}";

fn style(template: &'static str) -> ProgressStyle {
    // invariant: only the constant templates above come here, and the test below parses each.
    ProgressStyle::with_template(template).expect("a constant progress template parses")
}

pub struct Live {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Live {
    /// A progress display when stderr is a terminal and escape codes are welcome.
    pub fn for_stderr(enabled: bool) -> Option<Arc<Live>> {
        if !enabled || super::no_color() || !std::io::stderr().is_terminal() {
            return None;
        }
        Some(Arc::new(Live {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }))
    }

    pub fn progress(self: &Arc<Self>) -> Progress {
        let me = self.clone();
        Progress::new(move |e| me.on(e))
    }

    fn bar(&self, key: &str, text: String) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(style(RUNNING));
        bar.set_message(text);
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_string(), bar);
    }

    fn done(&self, key: &str, text: String) {
        if let Some(bar) = self.bars.lock().unwrap_or_else(|e| e.into_inner()).get(key) {
            bar.set_style(style(FINISHED));
            bar.finish_with_message(text);
        }
    }

    fn on(&self, e: Event) {
        match e {
            Event::EndpointStarted { url } => {
                self.bar(&url, format!("{}  connecting…", terminal_safe(&url)))
            }
            Event::EndpointFinished { url, status, login } => {
                let mark = match status {
                    Status::Ok => "✔",
                    Status::Warning => "!",
                    Status::Error => "✘",
                    Status::NotOffered => "-",
                };
                let login = match login {
                    Some(LoginStatus::Ok) => ", login ok",
                    Some(LoginStatus::Failed) => ", login FAILED",
                    _ => "",
                };
                let word = status.as_str();
                self.done(
                    &url,
                    format!("{mark} {}  {word}{login}", terminal_safe(&url)),
                );
            }
            Event::SourceStarted { name } => {
                self.bar(&format!("source:{name}"), format!("{name}  looking…"))
            }
            Event::SourceFinished { name, result } => {
                self.done(&format!("source:{name}"), format!("· {name}  {result}"))
            }
        }
    }

    /// Removes the progress lines before the report is printed.
    pub fn clear(&self) {
        let _ = self.multi.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_parse() {
        for t in [RUNNING, FINISHED] {
            assert!(ProgressStyle::with_template(t).is_ok(), "{t}");
        }
    }
}
