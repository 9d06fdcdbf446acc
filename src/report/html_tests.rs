//! The HTML report: escaping, nothing external, waterfall bars, verdict, discovery.

use super::*;
use crate::model::timing::{Phase, PhaseName, PhaseStatus, Phases};
use crate::model::Endpoint;
use crate::report::Code;

fn meta() -> Meta {
    Meta {
        tool: "mailsetup 0.0.0".into(),
        generated_at: "2026-01-01T00:00:00Z".into(),
    }
}

fn hostile_probe() -> ProbeReport {
    let ep: Endpoint = "imaps://h.example:993".parse().unwrap();
    let mut e = EndpointReport::new(&ep);
    e.greeting =
        Some("* OK <script>alert(1)</script><img src=x onerror=alert(2)></style>\"'&".into());
    e.problems.push(Problem::error(
        Code::ServerRefused,
        "the server said BYE: </td></tr><script>x()</script>\u{202e}",
    ));
    e.phases = Phases::from(vec![Phase {
        name: PhaseName::Connect,
        start_ms: 3,
        end_ms: 9,
        status: PhaseStatus::Error,
    }]);
    e.finish();
    ProbeReport {
        version: 1,
        command: "probe".into(),
        insecure: false,
        endpoints: vec![e],
        elapsed_ms: 12,
    }
}

#[test]
fn server_text_is_escaped_and_nothing_external_is_referenced() {
    let page = render_probe(&hostile_probe(), &meta(), 1);
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<img"), "{page}");
    assert_eq!(
        page.matches("</style>").count(),
        1,
        "only our own style block"
    );
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&lt;/style&gt;&quot;'&amp;"));
    assert!(
        page.contains("\\u{202e}"),
        "bidi override shown, not obeyed"
    );
    for needle in ["http://", "https://", "src=\"", "href=", "@import", "url("] {
        let outside_svg_ns = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(!outside_svg_ns.contains(needle), "{needle} in page");
    }
    assert!(page.contains("default-src 'none'"));
}

#[test]
fn waterfall_bars_carry_their_phase() {
    let page = render_probe(&hostile_probe(), &meta(), 1);
    assert!(
        page.contains(
            r#"data-phase="connect" data-start-ms="3" data-end-ms="9" data-status="error""#
        ),
        "{page}"
    );
    assert!(page.contains(r#"data-key="imaps://h.example:993""#));
}

#[test]
fn verdict_names_the_worst_problem() {
    let page = render_probe(&hostile_probe(), &meta(), 1);
    assert!(page.contains(r#"data-status="error""#));
    assert!(page.contains("Not working: server-refused"));
}

#[test]
fn discover_report_lists_every_lookup_with_its_bar() {
    use crate::discover::{Attempt, AttemptResult, Discovery, Source};
    let d = Discovery {
        attempts: vec![Attempt {
            source: Source::Srv,
            target: "_imaps._tcp.<b>x</b>.test".into(),
            result: AttemptResult::NotFound,
            detail: "no record".into(),
            elapsed_ms: 4,
            phases: vec![Phase {
                name: PhaseName::Dns,
                start_ms: 1,
                end_ms: 5,
                status: PhaseStatus::NotFound,
            }],
            dropped: 0,
            problem: None,
        }],
        candidates: vec![],
        provider: None,
        dropped: 0,
    };
    let page = render_discover("u@x.test", &d, 6, &meta());
    assert!(
        page.contains(r#"data-kind="attempt" data-key="attempt-0""#),
        "{page}"
    );
    assert!(page
        .contains(r#"data-phase="dns" data-start-ms="1" data-end-ms="5" data-status="not-found""#));
    assert!(page.contains("_imaps._tcp.&lt;b&gt;x&lt;/b&gt;.test"));
    assert!(page.contains("No mail server found"));
}

#[test]
fn ticks_are_round() {
    assert_eq!(tick_step(60), 10);
    assert_eq!(tick_step(1), 1);
    assert_eq!(tick_step(1234), 500);
    assert_eq!(tick_step(30_000), 5000);
}
