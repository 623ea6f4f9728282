//! End-to-end tests of the `saker` binary: exit codes, stdout and stderr.
//!
//! Tests documented "Needs the engine" depend on `esql::analyze` / `esql::execute` (not only on the
//! parser and this crate): when the engine is broken, look there first.

use std::path::Path;
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn saker(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_saker"))
        .args(args)
        .env_remove("COLUMNS")
        .output()
        .expect("the saker binary runs");
    Run {
        code: output.status.code().expect("exited normally"),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    }
}

/// A data folder with one sign-in index (two documents and one broken line).
fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("logs-azure.signinlogs-default.ndjson"),
        concat!(
            r#"{"@timestamp":"2024-05-01T10:00:00.000Z","source":{"ip":"81.2.69.143"},"event":{"outcome":"success","category":["authentication"]}}"#,
            "\n",
            "{\"source\": \n",
            r#"{"@timestamp":"2024-05-01T11:00:00.000Z","source.ip":"81.2.69.144","event.outcome":"failure"}"#,
            "\n"
        ),
    )
    .expect("write fixture");
    dir
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

#[test]
fn bad_query_is_a_rustc_style_error_with_exit_code_1() {
    let data = data_dir();
    let run = saker(&["query", "--data", path_str(data.path()), "FROM logs-* | WHERE"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.stdout);
    assert!(run.stderr.contains("error[parsing_exception]: "), "{}", run.stderr);
    assert!(run.stderr.contains("  --> <query>:1:"), "{}", run.stderr);
    assert!(run.stderr.contains("1 | FROM logs-* | WHERE\n"), "{}", run.stderr);
    assert!(run.stderr.contains('^'), "{}", run.stderr);
}

#[test]
fn ndjson_errors_are_warnings_that_do_not_stop_the_query() {
    let data = data_dir();
    let run = saker(&["query", "--data", path_str(data.path()), "FROM logs-* | WHERE"]);
    let file = data.path().join("logs-azure.signinlogs-default.ndjson");
    assert!(
        run.stderr.contains(&format!("warning: {}:2: ", file.display())),
        "the broken line is reported with file:line: {}",
        run.stderr
    );
    assert!(run.stderr.contains("loaded 1 index (2 documents)"), "{}", run.stderr);
    // the query still ran: its own (parse) error follows the warning
    assert!(run.stderr.contains("error[parsing_exception]"), "{}", run.stderr);
}

#[test]
fn quiet_keeps_only_errors() {
    let data = data_dir();
    let run = saker(&["--quiet", "query", "--data", path_str(data.path()), "FROM logs-* | WHERE"]);
    assert_eq!(run.code, 1);
    assert!(!run.stderr.contains("warning:"), "{}", run.stderr);
    assert!(!run.stderr.contains("loaded"), "{}", run.stderr);
    assert!(run.stderr.contains("error[parsing_exception]"), "{}", run.stderr);
}

#[test]
fn query_from_a_file_names_the_file_in_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("q.esql");
    std::fs::write(&file, "FROM logs-*\n| WHERE\n").expect("write");
    let run = saker(&["query", "--file", path_str(&file)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("  --> {}:", file.display())), "{}", run.stderr);
}

#[test]
fn usage_errors() {
    let run = saker(&["query", "--format", "yaml", "ROW a = 1"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("possible values: table, json, csv, txt"), "{}", run.stderr);

    let run = saker(&["query", "--now", "yesterday", "ROW a = 1"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("RFC 3339"), "{}", run.stderr);

    let run = saker(&["query"]);
    assert_eq!(run.code, 2, "a query or --file is required: {}", run.stderr);

    let run = saker(&["query", "--data", "/nonexistent/saker-data", "ROW a = 1"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("error: cannot load --data /nonexistent/saker-data"), "{}", run.stderr);
}

#[test]
fn help_shows_examples() {
    let run = saker(&["--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("Examples:\n  saker query --data"), "{}", run.stdout);
    let run = saker(&["check", "--help"]);
    assert!(run.stdout.contains("saker check rules/esql/"), "{}", run.stdout);
}

#[test]
fn check_reports_parse_errors_with_the_file_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("broken_rule.toml"),
        "[metadata]\nmaturity = \"production\"\n\n[rule]\nlanguage = \"esql\"\ntype = \"esql\"\nquery = '''\nFROM logs-*\n| LIMT 5\n'''\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("kql_rule.toml"),
        "[rule]\nlanguage = \"kuery\"\ntype = \"query\"\nquery = \"a:b\"\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("notes.md"), "not a query").expect("write");
    let run = saker(&["check", path_str(dir.path())]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let toml = dir.path().join("broken_rule.toml");
    assert!(run.stdout.contains("error[parsing_exception]"), "{}", run.stdout);
    // line 9 of the TOML file is `| LIMT 5`
    assert!(run.stdout.contains(&format!("  --> {}:9:3\n", toml.display())), "{}", run.stdout);
    assert!(run.stdout.contains("9 | | LIMT 5\n  |   ^^^^\n"), "{}", run.stdout);
    assert!(
        run.stdout.ends_with("checked 1 query: 0 ok, 1 with errors (1 non-ES|QL rule skipped)\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn check_reports_broken_toml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[rule\n").expect("write");
    let run = saker(&["check", path_str(&file)]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains(&format!("error: {}: ", file.display())), "{}", run.stdout);
    assert!(run.stdout.ends_with("checked 1 query: 0 ok, 1 with errors\n"), "{}", run.stdout);
}

#[test]
fn check_with_only_skipped_rules_succeeds() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("kql.toml"), "[rule]\nlanguage = \"kuery\"\nquery = \"a:b\"\n").expect("write");
    let run = saker(&["check", path_str(dir.path())]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.stdout, "checked 0 queries: 0 ok, 0 with errors (1 non-ES|QL rule skipped)\n");
}

#[test]
/// Needs the engine: `esql::analyze` must accept ECS fields.
fn check_accepts_a_valid_rule_query() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("ok.esql");
    std::fs::write(
        &file,
        "FROM logs-azure.signinlogs-*\n| WHERE event.outcome == \"success\" AND source.ip IS NOT NULL\n| STATS c = COUNT(*) BY source.ip\n",
    )
    .expect("write");
    let run = saker(&["check", path_str(&file)]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.stdout, "checked 1 query: 1 ok, 0 with errors\n");
}

#[test]
/// Needs the engine: `esql::analyze` must report unknown columns.
fn check_reports_unknown_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("typo.esql");
    std::fs::write(&file, "FROM logs-*\n| KEEP source.ipp\n").expect("write");
    let run = saker(&["check", path_str(&file)]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("error[verification_exception]"), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("  --> {}:2:8", file.display())), "{}", run.stdout);
}

#[test]
/// Needs the engine: `esql::execute`.
fn query_outputs_json_csv_txt_and_table() {
    let data = data_dir();
    let dir = path_str(data.path());
    let query = "FROM logs-azure.signinlogs-default | SORT @timestamp | KEEP @timestamp, source.ip, event.outcome";

    let run = saker(&["query", "--data", dir, "--format", "json", query]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let body: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(
        body,
        serde_json::json!({
            "columns": [
                {"name": "@timestamp", "type": "date"},
                {"name": "source.ip", "type": "ip"},
                {"name": "event.outcome", "type": "keyword"}
            ],
            "values": [
                ["2024-05-01T10:00:00.000Z", "81.2.69.143", "success"],
                ["2024-05-01T11:00:00.000Z", "81.2.69.144", "failure"]
            ]
        })
    );

    let run = saker(&["query", "--data", dir, "--format", "csv", query]);
    assert_eq!(
        run.stdout,
        "@timestamp,source.ip,event.outcome\r\n\
         2024-05-01T10:00:00.000Z,81.2.69.143,success\r\n\
         2024-05-01T11:00:00.000Z,81.2.69.144,failure\r\n"
    );

    let run = saker(&["query", "--data", dir, "--format", "txt", query]);
    assert_eq!(
        run.stdout,
        "       @timestamp       |   source.ip   | event.outcome \n\
         ------------------------+---------------+---------------\n\
         2024-05-01T10:00:00.000Z|81.2.69.143    |success        \n\
         2024-05-01T11:00:00.000Z|81.2.69.144    |failure        \n"
    );

    let run = saker(&["query", "--data", dir, query]);
    assert!(run.stdout.starts_with("@timestamp               │ source.ip   │ event.outcome\n"), "{}", run.stdout);
    assert!(run.stderr.contains("(2 rows)"), "{}", run.stderr);
}

#[test]
/// Needs the engine: `esql::execute`.
fn now_is_fixed_by_the_flag() {
    let run = saker(&["query", "--format", "csv", "--now", "2024-05-01T00:00:00Z", "ROW t = NOW()"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "t\r\n2024-05-01T00:00:00.000Z\r\n");
}

// ---- the flagship rule ------------------------------------------------------------------------

/// The seed rule's query, exactly as the user gave it (the text under "Rule query").
fn seed_query() -> String {
    let seed = ecs::samples::shared_data_dir().join("../seed/000_ea874a5aa972fe2a.txt");
    let text = std::fs::read_to_string(&seed).expect("the seed document is in shared/seed");
    let start = text.find("from logs-o365.audit-*").expect("the seed holds the rule query");
    let end = text[start..].find("\n\nFramework:").map(|e| start + e).expect("the query ends before Framework");
    text[start..end].trim_end().to_string()
}

/// The samples of `shared/data` as NDJSON indices, plus one alert of Elastic's "External
/// Alerts" rule for the public source address of the successful Entra ID sign-in, written half
/// an hour after it, as Kibana would have written it (copying the source event's dataset).
fn flagship_data() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let datasets = ecs::samples::sample_datasets(&ecs::samples::shared_data_dir()).expect("samples");
    ecs::samples::write_ndjson(&datasets, dir.path()).expect("write samples");
    let alert = serde_json::json!({
        "@timestamp": "2022-03-17T10:14:46.309Z",
        "kibana.alert.rule.name": "External Alerts",
        "kibana.alert.rule.rule_id": "eb079c62-4481-4d6e-9643-3ca499df7aaa",
        "kibana.alert.original_time": "2022-03-17T10:14:40.000Z",
        "event.kind": "signal",
        "event.dataset": "suricata.eve",
        "data_stream.dataset": "suricata.eve",
        "event.category": ["network", "intrusion_detection"],
        "source.ip": "81.2.69.143",
        "destination.ip": "10.0.0.5",
    });
    std::fs::write(dir.path().join(".alerts-security.alerts-default.ndjson"), format!("{alert}\n")).expect("alerts");
    dir
}

#[test]
/// The seed version compares `kibana.alert.rule.name` with "External Alerts" in its filter but
/// with "external alerts" when it classifies network alerts: ES|QL's `==` is case-sensitive, so
/// no alert is ever counted and the rule can never fire. With the one literal corrected, the same
/// data gives the correlated source address.
fn flagship_seed_query_returns_nothing_because_of_its_case_mismatch() {
    let data = flagship_data();
    let query = seed_query();
    assert!(query.contains(r#"kibana.alert.rule.name == "external alerts""#));
    let now = "2022-03-17T12:00:00Z";
    let run = saker(&["query", "--format", "csv", "--now", now, "--data", path_str(data.path()), &query]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1, "only the header: {}", run.stdout);
    assert!(run.stdout.starts_with("Esql.event_count,"), "{}", run.stdout);

    let corrected = query.replace(r#"== "external alerts""#, r#"== "External Alerts""#);
    let run = saker(&["query", "--format", "json", "--now", now, "--data", path_str(data.path()), &corrected]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: serde_json::Value = serde_json::from_str(&run.stdout).expect("json output");
    let values = out["values"].as_array().expect("values");
    assert_eq!(values.len(), 1, "{}", run.stdout);
    let columns: Vec<&str> = out["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    let cell = |name: &str| &values[0][columns.iter().position(|c| *c == name).unwrap()];
    assert_eq!(cell("Esql.source_ip"), "81.2.69.143");
    assert_eq!(cell("Esql.event_count"), 2);
    assert_eq!(cell("Esql.source_ip_network_alert_case_count_distinct"), 1);
    assert_eq!(cell("Esql.source_ip_azure_signin_case_count_distinct"), 1);
    assert_eq!(cell("Esql.event_dataset_count_distinct"), 2);
}

// ---- saker rules ------------------------------------------------------------------------------

fn flagship_rules_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/flagship")
}

#[test]
fn rules_lint_names_the_seed_versions_defect() {
    let dir = flagship_rules_dir();
    let run = saker(&["rules", "lint", path_str(&dir)]);
    assert_eq!(run.code, 1, "findings fail the command: {}", run.stderr);
    assert!(
        run.stdout
            .contains("warning[case-variant-literals]: `kibana.alert.rule.name` is compared with \"external alerts\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("seed_microsoft_365_or_entra_id_signin_from_suspicious_source.toml:75:70"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("the rule can never create an alert"), "{}", run.stdout);
    assert!(run.stdout.ends_with("linted 3 rules: 3 findings in 1 rule\n"), "{}", run.stdout);
    let run = saker(&["rules", "validate", path_str(&dir)]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("total                    3        3"), "{}", run.stdout);
}

#[test]
/// One scheduled execution of External Alerts over a Suricata alert, twice: the alert is
/// written once.
fn rules_run_at_writes_alerts_once() {
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        data.path().join("logs-suricata.eve-default.ndjson"),
        concat!(
            r#"{"@timestamp":"2024-05-01T10:00:00Z","event":{"kind":"alert","module":"suricata","ingested":"2024-05-01T10:00:30Z"},"message":"ET SCAN","source":{"ip":"81.2.69.143"}}"#,
            "\n"
        ),
    )
    .expect("fixture");
    let rule = flagship_rules_dir().join("external_alerts.toml");
    let args =
        ["rules", "run", "--data", path_str(data.path()), "--rules", path_str(&rule), "--at", "2024-05-01T10:01:00Z"];
    let run = saker(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("rules run: 1, executions: 1, alerts written: 1, warnings: 0, errors: 0"),
        "{}",
        run.stdout
    );
    let alerts = std::fs::read_to_string(data.path().join(".alerts-security.alerts-default.ndjson")).expect("alerts");
    assert_eq!(alerts.lines().count(), 1);
    assert!(alerts.contains(r#""kibana.alert.rule.name":"ET SCAN""#), "{alerts}");
    let run = saker(&args);
    assert!(run.stdout.contains("alerts written: 0"), "{}", run.stdout);
    let run = saker(&["rules", "run", "--data", path_str(data.path()), "--rules", path_str(&rule)]);
    assert_eq!(run.code, 2, "--at or --from/--to is required: {}", run.stderr);
}

/// A minimal HTTP/1.1 exchange with `saker serve` (one request a connection): status and body.
fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("receive");
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status line");
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

/// `saker serve --rules` over `data`, logging JSON lines into `log`, once it answers.
fn start_serve(data: &Path, rules: &Path, log: &Path) -> (std::process::Child, u16) {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_saker"))
        .args(["serve", "--data", path_str(data), "--rules", path_str(rules), "--log-format", "json"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stderr(std::fs::File::create(log).expect("log file"))
        .spawn()
        .expect("saker serve starts");
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (child, port);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("saker serve did not answer: {}", std::fs::read_to_string(log).unwrap_or_default());
}

fn bulk_probes(port: u16, seqs: std::ops::Range<u32>) {
    let mut body = String::new();
    for seq in seqs {
        let now = chrono_like_now();
        body.push_str(r#"{"create":{"_index":"logs-probe-default"}}"#);
        body.push('\n');
        body.push_str(&format!(
            r#"{{"@timestamp":"{now}","event":{{"kind":"event","action":"probe"}},"host":{{"name":"h{}"}},"labels":{{"seq":"s{seq}"}}}}"#,
            seq % 3
        ));
        body.push('\n');
    }
    let (status, response) = http(port, "POST", "/_bulk", &body);
    assert_eq!(status, 200, "{response}");
    assert!(response.contains(r#""errors":false"#), "{response}");
}

/// The current time as Elasticsearch writes dates.
fn chrono_like_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An RFC 3339 time as ms since the epoch.
fn parse_ms(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}")).timestamp_millis()
}

fn show_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339()).unwrap_or_default()
}

/// Needs the engine and the store. `saker serve --rules` runs rules every second while it is
/// killed (SIGKILL) at arbitrary moments and restarted, then kept down longer than the rules'
/// look-back: every probe document has exactly one alert from the KQL rule, the ES|QL rule never
/// wrote one group twice in one execution, and for the short look-back rule the windows searched
/// plus the gaps recorded cover the whole time without a hole.
#[test]
fn serve_runs_rules_through_kills_without_duplicates_or_unrecorded_gaps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let rules = dir.path().join("rules.ndjson");
    let common = r#""severity":"low","risk_score":21,"description":"probe","interval":"1s""#;
    std::fs::write(
        &rules,
        [
            format!(
                r#"{{"rule_id":"probe-kql","name":"Probe KQL","type":"query","language":"kuery","query":"event.action:probe","index":["logs-probe-*"],"from":"now-120s",{common}}}"#
            ),
            format!(
                r#"{{"rule_id":"probe-esql","name":"Probe ES|QL","type":"esql","language":"esql","query":"FROM logs-probe-* | WHERE event.action == \"probe\" | STATS c = COUNT(*) BY host.name","from":"now-120s",{common}}}"#
            ),
            format!(
                r#"{{"rule_id":"probe-short","name":"Probe short look-back","type":"query","language":"kuery","query":"event.action:probe","index":["logs-probe-*"],"from":"now-2s",{common}}}"#
            ),
        ]
        .join("\n"),
    )
    .expect("rules");
    let mut logs = Vec::new();
    let mut seq = 0;
    // Killed at moments spread over the executions: before, during and after writes.
    for (round, pause_ms) in [350u64, 1300, 800, 2100, 600].into_iter().enumerate() {
        let log = dir.path().join(format!("serve-{round}.log"));
        let (mut server, port) = start_serve(&data, &rules, &log);
        bulk_probes(port, seq..seq + 7);
        seq += 7;
        std::thread::sleep(std::time::Duration::from_millis(pause_ms));
        server.kill().expect("SIGKILL");
        server.wait().expect("reaped");
        logs.push(log);
    }
    // Down for longer than the short rule's look-back and its four catch-up intervals.
    std::thread::sleep(std::time::Duration::from_secs(9));
    let log = dir.path().join("serve-last.log");
    let (mut server, port) = start_serve(&data, &rules, &log);
    bulk_probes(port, seq..seq + 5);
    seq += 5;
    std::thread::sleep(std::time::Duration::from_secs(4));
    // Prometheus metrics of this process: its ingest and its rule executions.
    let (code, metrics) = http(port, "GET", "/_saker/metrics", "");
    assert_eq!(code, 200, "{metrics}");
    assert!(metrics.contains("saker_ingest_documents_total{result=\"accepted\"} 5\n"), "{metrics}");
    assert!(metrics.contains("saker_rule_executions_total{rule_id=\"probe-kql\",status=\"succeeded\"}"), "{metrics}");
    assert!(metrics.contains("saker_rule_gaps_total{rule_id=\"probe-short\"} 1\n"), "{metrics}");
    let status = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().expect("kill -TERM");
    assert!(status.success());
    assert!(server.wait().expect("reaped").success(), "{}", std::fs::read_to_string(&log).unwrap_or_default());
    logs.push(log);
    let all_logs: String = logs.iter().map(|l| std::fs::read_to_string(l).expect("log")).collect();

    // One alert per probe document from the KQL rule with the long look-back.
    let data_arg = path_str(&data);
    let run = saker(&[
        "query",
        "--data",
        data_arg,
        "--format",
        "csv",
        r#"FROM .alerts-security.alerts-default | WHERE kibana.alert.rule.rule_id == "probe-kql" | STATS n = COUNT(*), docs = COUNT_DISTINCT(labels.seq)"#,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim().replace("\r\n", "\n"), format!("n,docs\n{seq},{seq}"), "{all_logs}");

    // The aggregating rule: at most one alert per group and execution.
    let run = saker(&[
        "query",
        "--data",
        data_arg,
        "--format",
        "csv",
        r#"FROM .alerts-security.alerts-default | WHERE kibana.alert.rule.rule_id == "probe-esql"
           | STATS n = COUNT(*) BY kibana.alert.rule.execution.uuid, host.name | WHERE n > 1 | STATS groups = COUNT(*)"#,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim().replace("\r\n", "\n"), "groups\n0");

    // The short look-back rule: windows searched (from the logs) and gaps recorded (the rule
    // state) leave no hole.
    let mut spans: Vec<(i64, i64)> = Vec::new();
    for line in all_logs.lines() {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let fields = &entry["fields"];
        if fields["rule"] != "Probe short look-back" {
            continue;
        }
        if let Some(windows) = fields["windows"].as_str() {
            for w in windows.split(',').filter(|w| !w.is_empty()) {
                let (from, to) = w.split_once("..").expect("from..to");
                spans.push((parse_ms(from), parse_ms(to)));
            }
        }
    }
    let run = saker(&["rules", "status", "--data", data_arg, "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state: serde_json::Value = serde_json::from_str(&run.stdout).expect("state JSON");
    let short = state["rules"]
        .as_object()
        .expect("rules")
        .values()
        .find(|r| r["rule_id"] == "probe-short")
        .expect("the short rule ran");
    assert!(short["running"].is_null(), "no execution left cut short: {short}");
    let gaps = short["gaps"].as_array().expect("gaps");
    assert!(!gaps.is_empty(), "the downtime is a recorded gap: {short}");
    let gap_ms = |g: &serde_json::Value| {
        let to_ms = |v: &serde_json::Value| parse_ms(v.as_str().expect("time"));
        (to_ms(&g["gte"]), to_ms(&g["lte"]))
    };
    spans.extend(gaps.iter().map(gap_ms));
    spans.sort();
    let mut covered = spans[0];
    for &(from, to) in &spans[1..] {
        assert!(from <= covered.1 + 1, "nothing searched or recorded from {} to {}", show_ms(covered.1), show_ms(from));
        covered.1 = covered.1.max(to);
    }
}

/// Needs the store. `saker ingest` with and without fsync of the log: the documents are stored
/// and queryable either way.
#[test]
fn ingest_with_and_without_fsync() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("x.ndjson");
    std::fs::write(
        &file,
        "{\"@timestamp\":\"2024-05-01T00:00:00Z\",\"a\":1}\n{\"@timestamp\":\"2024-05-01T00:00:01Z\",\"a\":2}\n",
    )
    .expect("fixture");
    let data = dir.path().join("store");
    for extra in [&[][..], &["--no-fsync"][..]] {
        let mut args = vec!["ingest", "--data", path_str(&data), "--index", "logs-x-default"];
        args.extend_from_slice(extra);
        args.push(path_str(&file));
        let run = saker(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.contains("ingested 2 documents"), "{}{}", run.stdout, run.stderr);
    }
    let run =
        saker(&["query", "--data", path_str(&data), "--format", "csv", "FROM logs-x-default | STATS c = COUNT(*)"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim().replace("\r\n", "\n"), "c\n4");
}
