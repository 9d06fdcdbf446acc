//! `--html FILE` rendered by a real browser: headless Chromium (Debian) opens the report of a
//! real-stack check and of a hostile server, and the DevTools protocol tells what it did —
//! console messages, every request (also from Chromium's own network log), the live DOM, the
//! waterfall's bars as drawn — and takes a screenshot.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::browser::{inspect, page_requests};
use support::certs::TestCa;
use support::dns::{Record, TestDns};
use support::fake::{expect_tagged, send, FakeServer, Step};
use support::run::{assert_no_secret, mailsetup, path_str};
use support::stack::MailStack;

/// Where the screenshots go: the target dir; with MAILSETUP_UPDATE_SCREENSHOT=1 the real-stack
/// one is also copied to docs/report-screenshot.png (the README's picture).
fn shot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.png"))
}

/// What every report must satisfy in the browser: no console message, no request but the
/// file itself, no script/image/handler in the DOM, our one style block, a real screenshot.
fn assert_clean_page(v: &Value, html: &Path, shot: &Path) {
    assert_eq!(
        v["console"],
        serde_json::json!([]),
        "console: {}",
        v["console"]
    );
    let (devtools, netlog) = page_requests(v);
    let file_url = v["url"].as_str().unwrap().to_string();
    assert!(file_url.starts_with("file:///") && file_url.ends_with(".html"));
    assert_eq!(devtools, vec![file_url], "requests seen by DevTools");
    assert_eq!(
        netlog,
        Vec::<String>::new(),
        "page requests in Chromium's net log"
    );
    let dom = &v["dom"];
    assert_eq!(dom["scripts"], 0, "{dom}");
    assert_eq!(dom["images"], 0, "{dom}");
    assert_eq!(dom["styles"], 1, "{dom}");
    assert_eq!(
        dom["eventHandlerAttributes"],
        serde_json::json!([]),
        "{dom}"
    );
    assert!(dom["bodyTextLength"].as_u64().unwrap() > 200, "{dom}");
    let png = std::fs::read(shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    assert!(png.len() > 20_000, "a real picture, {} bytes", png.len());
    let page = std::fs::read_to_string(html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
}

/// The waterfall as drawn equals the JSON phases: every phase of every row is one bar with
/// the same name, times and status, at the place and width the time axis puts it.
fn assert_bars_match(v: &Value, rows: &[(String, String, Vec<Value>)]) {
    let chart = &v["chart"];
    let origin = chart["originX"].as_f64().unwrap();
    let px_per_ms = chart["pxPerMs"].as_f64().unwrap();
    let zoom = chart["renderedWidth"].as_f64().unwrap() / chart["viewBoxWidth"].as_f64().unwrap();
    let left = chart["left"].as_f64().unwrap();
    let end = rows
        .iter()
        .flat_map(|(_, _, p)| p.iter().map(|x| x["end_ms"].as_u64().unwrap()))
        .max()
        .unwrap();
    assert_eq!(chart["endMs"].as_u64().unwrap(), end.max(1));
    let bars = v["bars"].as_array().unwrap();
    let mut seen = 0;
    for (kind, key, phases) in rows {
        let mut mine: Vec<&Value> = bars
            .iter()
            .filter(|b| b["kind"] == kind.as_str() && b["key"] == key.as_str())
            .collect();
        mine.sort_by_key(|b| b["index"].as_u64());
        assert_eq!(
            mine.len(),
            phases.len(),
            "{key}: bars {mine:?} vs phases {phases:?}"
        );
        for (bar, p) in mine.iter().zip(phases) {
            let (start, stop) = (
                p["start_ms"].as_f64().unwrap(),
                p["end_ms"].as_f64().unwrap(),
            );
            assert_eq!(bar["phase"], p["name"], "{key}");
            assert_eq!(bar["status"], p["status"], "{key}");
            assert_eq!(bar["startMs"].as_f64().unwrap(), start, "{key}");
            assert_eq!(bar["endMs"].as_f64().unwrap(), stop, "{key}");
            let x = origin + start * px_per_ms;
            let w = ((stop - start) * px_per_ms).max(1.0);
            assert!((bar["x"].as_f64().unwrap() - x).abs() < 0.01, "{key} {bar}");
            assert!(
                (bar["width"].as_f64().unwrap() - w).abs() < 0.01,
                "{key} {bar}"
            );
            // As laid out on the screen.
            let drawn_left = bar["renderedLeft"].as_f64().unwrap() - left;
            assert!((drawn_left - x * zoom).abs() < 1.0, "{key} {bar}");
            assert!(
                (bar["renderedWidth"].as_f64().unwrap() - w * zoom).abs() < 1.0,
                "{key} {bar}"
            );
        }
        seen += mine.len();
    }
    assert_eq!(seen, bars.len(), "no bar without a phase");
}

#[test]
fn real_stack_check_report_renders_clean_in_chromium() {
    let name = "real_stack_check_report_renders_clean_in_chromium";
    let Some(stack) = MailStack::start(name) else {
        return;
    };
    let mut records = vec![Record::a("mail.example.test", "127.0.0.1")];
    for (label, key) in [
        ("_imaps", "IMAPS_PORT"),
        ("_imap", "IMAP_PORT"),
        ("_pop3s", "POP3S_PORT"),
        ("_pop3", "POP3_PORT"),
        ("_submissions", "SUBMISSIONS_PORT"),
        ("_submission", "SUBMISSION_PORT"),
    ] {
        records.push(Record::srv(
            &format!("{label}._tcp.example.test"),
            "mail.example.test",
            stack.port(key),
            0,
            0,
        ));
    }
    let Some(dns) = TestDns::start(&records) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let user = stack.get("QUOTA_USER").to_string();
    let password = stack.get("QUOTA_PASSWORD").to_string();
    let r = mailsetup(
        &[
            "check",
            &user,
            "--password-env",
            "PW",
            "--sources",
            "srv",
            "--dns-server",
            &dns.addr().to_string(),
            "--ca-file",
            &path_str(&stack.ca_file()),
            "--json",
            "--html",
            &path_str(&html),
        ],
        &[("PW", &password)],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let json = r.json();
    let page_bytes = std::fs::read(&html).expect("the report was written");
    assert_no_secret("the HTML report", &page_bytes, &user, &password);

    let shot = shot_path("report-check");
    let Some(v) = inspect(name, &html, &shot) else {
        return;
    };
    assert_clean_page(&v, &html, &shot);
    let dom = &v["dom"];
    assert_eq!(dom["verdictStatus"], "ok", "{dom}");
    let urls: Vec<Value> = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["url"].clone())
        .collect();
    assert_eq!(dom["endpointUrls"], Value::Array(urls));
    assert_eq!(urls_len(&json), 6);
    let sha = &json["endpoints"][0]["tls"]["certificate"]["sha256"];
    assert_eq!(dom["certificates"], serde_json::json!([sha]));
    assert_eq!(dom["title"], format!("mailsetup check {user}"));

    // Every discovery attempt and every endpoint, bar for phase.
    let mut rows: Vec<(String, String, Vec<Value>)> = Vec::new();
    for (i, a) in json["discovery"]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let phases = a["phases"].as_array().unwrap().clone();
        assert_eq!(phases.len(), 1, "{a}");
        rows.push(("attempt".into(), format!("attempt-{i}"), phases));
    }
    assert!(rows.len() >= 6, "six SRV lookups: {rows:?}");
    for e in json["endpoints"].as_array().unwrap() {
        let phases = e["phases"].as_array().unwrap().clone();
        let names: Vec<&str> = phases.iter().map(|p| p["name"].as_str().unwrap()).collect();
        // Login and quota are recorded too; STARTTLS endpoints show both capability reads.
        assert!(names.contains(&"login"), "{names:?}");
        if e["security"] == "starttls" {
            assert!(names.contains(&"starttls"), "{names:?}");
            assert_eq!(names.iter().filter(|n| **n == "capabilities").count(), 2);
        }
        rows.push(("endpoint".into(), e["url"].as_str().unwrap().into(), phases));
    }
    assert_bars_match(&v, &rows);

    if std::env::var("MAILSETUP_UPDATE_SCREENSHOT").is_ok_and(|x| x == "1") {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/report-screenshot.png");
        std::fs::copy(&shot, &docs).expect("update docs/report-screenshot.png");
    }
}

fn urls_len(json: &Value) -> usize {
    json["endpoints"].as_array().unwrap().len()
}

const HOSTILE: &str =
    "<script>alert(1)</script><img src=x onerror=alert(2)></style><b>bold?</b> & \"quoted\"";

#[test]
fn hostile_server_text_shows_as_text_in_chromium() {
    let name = "hostile_server_text_shows_as_text_in_chromium";
    let ca = TestCa::new("hostile-html");
    let host = "fake.example.test";
    let s = FakeServer::start(vec![
        Step::StartTls(ca.leaf(&[host]).server_config()),
        send(format!("* OK {HOSTILE}\r\n")),
        expect_tagged("CAPABILITY"),
        send(format!("* BYE {HOSTILE}\r\n")),
        Step::Close,
    ]);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write_ca_pem(dir.path());
    let html = dir.path().join("hostile.html");
    let r = mailsetup(
        &[
            "probe",
            "--server",
            &format!("imaps://{host}:993"),
            "--connect-to",
            &format!("{host}:993:127.0.0.1:{}", s.port),
            "--ca-file",
            &path_str(&ca_file),
            "--timeout",
            "5",
            "--json",
            "--html",
            &path_str(&html),
        ],
        &[],
    );
    assert_eq!(r.code, 1, "a failing case: {}\n{}", r.stdout, r.stderr);
    let json = r.json();
    let shot = shot_path("report-hostile");
    let Some(v) = inspect(name, &html, &shot) else {
        return;
    };
    assert_clean_page(&v, &html, &shot);
    let dom = &v["dom"];
    // The greeting is text in the DOM, character for character.
    assert_eq!(
        dom["greetings"],
        serde_json::json!([format!("OK {HOSTILE}")]),
        "{dom}"
    );
    assert_eq!(dom["verdictStatus"], "error");
    let codes: Vec<&str> = dom["problemCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let json_codes: Vec<&str> = json["endpoints"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, json_codes);
    assert!(!codes.is_empty());
    let problems_text = dom["problemsText"].to_string();
    assert!(problems_text.contains("alert(1)"), "{problems_text}");
    let e = &json["endpoints"][0];
    let rows = vec![(
        "endpoint".to_string(),
        e["url"].as_str().unwrap().to_string(),
        e["phases"].as_array().unwrap().clone(),
    )];
    assert!(
        e["phases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["status"] == "error"),
        "the failing phase is marked: {}",
        e["phases"]
    );
    assert_bars_match(&v, &rows);
}

/// The checks above would be blind if the inspector missed requests or console errors: a page
/// that makes one (and logs an error) must be seen doing so.
#[test]
fn the_inspector_sees_a_page_that_makes_a_request() {
    let name = "the_inspector_sees_a_page_that_makes_a_request";
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("control.html");
    std::fs::write(
        &html,
        format!(
            "<!DOCTYPE html><html><head><title>control</title></head><body>\
             <p>{}</p><img src=\"http://127.0.0.1:{port}/x.png\"></body></html>",
            "control page ".repeat(30)
        ),
    )
    .unwrap();
    let shot = shot_path("control");
    let Some(v) = inspect(name, &html, &shot) else {
        return;
    };
    let (devtools, netlog) = page_requests(&v);
    let img = format!("http://127.0.0.1:{port}/x.png");
    assert!(devtools.contains(&img), "{devtools:?}");
    assert!(netlog.contains(&img), "{netlog:?}");
    assert_eq!(v["dom"]["images"], 1);
    assert!(
        !v["console"].as_array().unwrap().is_empty(),
        "the failed load is a console error"
    );
}
