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
