//! Round trips per endpoint (issue 13 item 5), counted, not timed: every check of one endpoint
//! of the real stack (Dovecot, Postfix) goes through a loopback proxy that delays every chunk
//! and records which side spoke when ([`support::flights`]); the round trips are the times the
//! client waited for the server. Login and quota are included. The budget is issue 13's table.

mod support;

use std::time::Duration;

use support::flights::FlightProxy;
use support::run::mailsetup;
use support::stack::MailStack;

const HOST: &str = "mail.example.test";

/// (scheme, standard port, the stack's port key, budget in round trips).
const BUDGET: [(&str, u16, &str, f64); 6] = [
    ("imaps", 993, "IMAPS_PORT", 4.0),
    ("imap", 143, "IMAP_PORT", 5.5),
    ("pop3s", 995, "POP3S_PORT", 4.5),
    ("pop3", 110, "POP3_PORT", 7.0),
    ("smtps", 465, "SUBMISSIONS_PORT", 4.5),
    ("smtp", 587, "SUBMISSION_PORT", 6.0),
];

/// Long enough that a side that does not wait always sends before the other's answer can
/// arrive, so the count does not depend on the machine's load.
const DELAY: Duration = Duration::from_millis(50);

#[test]
fn every_endpoint_is_checked_within_its_round_trip_budget() {
    let Some(s) = MailStack::start("every_endpoint_is_checked_within_its_round_trip_budget") else {
        return;
    };
    let ca = s.ca_file().display().to_string();
    let mut table = Vec::new();
    for (scheme, std_port, key, budget) in BUDGET {
        let proxy = FlightProxy::start(s.port(key), DELAY);
        let server = format!("{scheme}://{HOST}");
        let map = format!("{HOST}:{std_port}:127.0.0.1:{}", proxy.port);
        let run = mailsetup(
            &[
                "check",
                s.get("USER"),
                "--password-env",
                "PW",
                "--server",
                &server,
                "--connect-to",
                &map,
                "--ca-file",
                &ca,
                "--json",
            ],
            &[("PW", s.get("PASSWORD"))],
        );
        assert_eq!(run.code, 0, "{server}: {}\n{}", run.stdout, run.stderr);
        let v = run.json();
        let e = &v["endpoints"][0];
        assert_eq!(e["login"]["status"], "ok", "{server}: {e}");
        if scheme != "smtps" && scheme != "smtp" {
            assert!(v["quota"].is_object(), "{server}: quota read: {v}");
        }
        let logs = proxy.logs();
        assert_eq!(logs.len(), 1, "{server}: one connection: {logs:?}");
        let rtt = logs[0].round_trips();
        table.push((scheme, rtt, budget, logs[0].flights()));
    }
    let report: Vec<String> = table
        .iter()
        .map(|(scheme, rtt, budget, flights)| {
            format!("{scheme:6} {rtt:4.1} RTT (budget {budget}) flights {flights:?}")
        })
        .collect();
    eprintln!("{}", report.join("\n"));
    for (scheme, rtt, budget, _) in &table {
        assert!(
            rtt <= budget,
            "{scheme} over budget:\n{}",
            report.join("\n")
        );
    }
}
