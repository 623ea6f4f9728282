//! End-to-end tests of the detection engine: the flagship scenario of issue 3 over documents
//! built from Elastic's integration samples (`shared/data`), replayed through the External
//! Alerts rule and the flagship rule (corrected and seed versions), and the rule corpus
//! (`shared/rules`) loading and validating.

use chrono::{DateTime, Duration, Utc};
use detect::alert::ALERTS_INDEX;
use detect::datemath::{iso, parse_date};
use detect::lint::{Check, lint_rule};
use detect::rule::{Rule, RuleType};
use detect::state::Status;
use detect::store::STATE_FILE;
use detect::{DetectionStore, Engine, MemStore, load_paths};
use esql::render::{Cell, rows};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const EXTERNAL_ALERTS_ID: &str = "eb079c62-4481-4d6e-9643-3ca499df7aaa";
const CORRECTED_ID: &str = "6f1c2d0e-5b7a-4c39-9e1f-3a8d2b4c7e61";
const SEED_ID: &str = "f0cc239b-67fa-46fc-89d4-f861753a40f5";

fn at(s: &str) -> DateTime<Utc> {
    parse_date(s).unwrap_or_else(|| panic!("bad test time {s}"))
}

fn flagship_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/flagship")
}

fn flagship_rules() -> Vec<Rule> {
    let report = load_paths(&[flagship_dir()]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report.rules
}

fn rule<'a>(rules: &'a [Rule], rule_id: &str) -> &'a Rule {
    rules.iter().find(|r| r.rule_id == rule_id).unwrap_or_else(|| panic!("rule {rule_id} is in rules/flagship"))
}

/// Sets `path` (dotted) in a nested JSON document.
fn set(doc: &mut Value, path: &str, value: Value) {
    let mut cur = doc;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let obj = cur.as_object_mut().expect("an object on the path");
        if i + 1 == parts.len() {
            obj.insert(part.to_string(), value);
            return;
        }
        cur = obj.entry(part.to_string()).or_insert_with(|| json!({}));
    }
}

/// A copy of `doc` at `time` (ingested 5 seconds later) with some fields changed.
fn event(doc: &Value, time: DateTime<Utc>, edits: &[(&str, Value)]) -> Value {
    let mut d = doc.clone();
    set(&mut d, "@timestamp", json!(iso(time)));
    set(&mut d, "event.ingested", json!(iso(time + Duration::seconds(5))));
    for (path, value) in edits {
        set(&mut d, path, value.clone());
    }
    d
}

/// The documents of the scenario, per index, and the addresses the flagship must alert on.
///
/// | address | what | expected |
/// |---|---|---|
/// | 81.2.69.143 | Entra ID sign-in (success) + Suricata alert | alert |
/// | 89.160.20.128 | M365 MailItemsAccessed (success) + PAN-OS alert | alert |
/// | 81.2.69.161 | 99 successful sign-ins + 1 Suricata alert = 100 documents | alert |
/// | 81.2.69.144 | 2 failed Entra ID sign-ins + Suricata alert | none (failed sign-ins) |
/// | 81.2.69.170 | failed MailItemsAccessed + Suricata alert | none (failed) |
/// | 192.168.1.146 | sign-in (success) + Suricata alert | none (private) |
/// | 203.0.113.9 | MailItemsAccessed (success) + Suricata alert | none (documentation range) |
/// | 67.43.156.15 | M365 UserLoggedIn + Suricata alert | none (neither sign-in nor mail access) |
/// | 67.43.156.20 | two Suricata alerts | none (a single dataset) |
/// | 81.2.69.160 | 101 successful sign-ins + 1 Suricata alert | none (more than 100 events) |
/// | 81.2.69.143 | Elastic Defend alert | not promoted by External Alerts |
fn scenario() -> (BTreeMap<&'static str, Vec<Value>>, usize) {
    let samples = ecs::samples::sample_datasets(&ecs::samples::shared_data_dir())
        .unwrap_or_else(|e| panic!("{e} (set SAKER_SHARED_DATA to the shared/data folder)"));
    let signins = &samples[0].documents;
    let o365 = &samples[1].documents;
    let suricata = &samples[2].documents;
    let panw = &samples[3].documents;
    let (success, failure) = (&signins[2], &signins[0]);
    let (user_logged_in, attachment_access) = (&o365[0], &o365[1]);
    let (ids_alert, ssh_event) = (&suricata[0], &suricata[1]);
    let t = |m: i64, s: i64| at("2024-05-01T10:00:00Z") + Duration::minutes(m) + Duration::seconds(s);
    let ip = |a: &str| vec![("source.ip", json!(a)), ("source.address", json!(a))];
    let mail = |a: &str, outcome: &str| {
        let mut e = ip(a);
        e.extend([
            ("event.action", json!("MailItemsAccessed")),
            ("event.outcome", json!(outcome)),
            ("client.ip", json!(a)),
        ]);
        e
    };

    let mut docs: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
    let sign = docs.entry("logs-azure.signinlogs-default").or_default();
    sign.push(event(success, t(5, 0), &ip("81.2.69.143")));
    sign.push(event(failure, t(6, 0), &[]));
    sign.push(event(&signins[1], t(7, 0), &[]));
    sign.push(event(success, t(8, 0), &ip("192.168.1.146")));
    for i in 0..101 {
        sign.push(event(success, t(30, i), &ip("81.2.69.160")));
    }
    for i in 0..99 {
        sign.push(event(success, t(32, i % 60), &ip("81.2.69.161")));
    }
    let m365 = docs.entry("logs-o365.audit-default").or_default();
    m365.push(event(user_logged_in, t(9, 0), &[]));
    m365.push(event(attachment_access, t(10, 0), &mail("89.160.20.128", "success")));
    m365.push(event(attachment_access, t(11, 0), &mail("203.0.113.9", "success")));
    m365.push(event(attachment_access, t(11, 30), &mail("81.2.69.170", "failure")));
    let ids = docs.entry("logs-suricata.eve-default").or_default();
    for (m, s, a) in [
        (20, 0, "81.2.69.143"),
        (25, 0, "81.2.69.144"),
        (26, 0, "192.168.1.146"),
        (27, 0, "203.0.113.9"),
        (28, 0, "67.43.156.15"),
        (29, 0, "67.43.156.20"),
        (29, 30, "67.43.156.20"),
        (33, 0, "81.2.69.160"),
        (34, 0, "81.2.69.161"),
        (35, 0, "81.2.69.170"),
    ] {
        ids.push(event(ids_alert, t(m, s), &ip(a)));
    }
    ids.push(event(ssh_event, t(36, 0), &[]));
    docs.entry("logs-panw.panos-default").or_default().push(event(&panw[0], t(12, 0), &ip("89.160.20.128")));
    let mut defend = ids_alert.clone();
    set(&mut defend, "event.module", json!("endpoint"));
    set(&mut defend, "event.dataset", json!("endpoint.alerts"));
    set(&mut defend, "data_stream.dataset", json!("endpoint.alerts"));
    docs.entry("logs-endpoint.alerts-default").or_default().push(event(&defend, t(37, 0), &ip("81.2.69.143")));
    // every alert event but the Elastic Defend one is promoted
    let promoted = 11;
    (docs, promoted)
}

/// A data folder holding the scenario as NDJSON files.
fn data_folder() -> (tempfile::TempDir, usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (docs, promoted) = scenario();
    for (index, docs) in docs {
        let text: String = docs.iter().map(|d| format!("{d}\n")).collect();
        std::fs::write(dir.path().join(format!("{index}.ndjson")), text).expect("write fixture");
    }
    (dir, promoted)
}

fn alerts_of<'a>(alerts: &'a [Map<String, Value>], rule_id: &str) -> Vec<&'a Map<String, Value>> {
    alerts.iter().filter(|a| a["kibana.alert.rule.rule_id"] == rule_id).collect()
}

fn alerts_file(dir: &Path) -> Vec<Map<String, Value>> {
    let text = std::fs::read_to_string(dir.join(format!("{ALERTS_INDEX}.ndjson"))).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json line").as_object().cloned().expect("object"))
        .collect()
}

#[tokio::test]
async fn flagship_replay_finds_exactly_the_correlated_addresses() {
    let (dir, promoted) = data_folder();
    let rules = flagship_rules();
    let selected: Vec<Rule> = [EXTERNAL_ALERTS_ID, CORRECTED_ID].iter().map(|id| rule(&rules, id).clone()).collect();
    let store = MemStore::open(dir.path()).expect("data folder");
    assert!(store.load_errors.is_empty(), "{:?}", store.load_errors);
    let mut engine = Engine::new(store);
    let summary = engine.replay(&selected, at("2024-05-01T10:00:00Z"), at("2024-05-01T11:00:00Z")).await;
    for e in &summary.executions {
        assert!(
            e.errors.is_empty() && e.warnings.is_empty(),
            "{} at {}: {:?} {:?}",
            e.rule_name,
            e.started_at,
            e.errors,
            e.warnings
        );
        assert_eq!(e.status, Status::Succeeded);
    }
    assert_eq!(summary.rules_run(), 2);
    assert_eq!(summary.executions.len(), 61 + 2, "External Alerts every minute, the flagship every hour");

    let alerts = alerts_file(dir.path());
    let uuids: BTreeSet<&str> = alerts.iter().map(|a| a["kibana.alert.uuid"].as_str().expect("uuid")).collect();
    assert_eq!(uuids.len(), alerts.len(), "no alert is written twice");
    assert_eq!(summary.alerts_written(), alerts.len());

    // External Alerts: one alert per third-party alert event, never repeated by the overlapping
    // one-minute windows
    let external = alerts_of(&alerts, EXTERNAL_ALERTS_ID);
    assert_eq!(external.len(), promoted);
    assert!(external.iter().all(|a| a["kibana.alert.original_event.module"] != "endpoint"));
    let leak = external
        .iter()
        .find(|a| a["source"]["ip"] == "81.2.69.143")
        .expect("the Suricata alert from 81.2.69.143 is promoted");
    let expect = |key: &str, value: Value| assert_eq!(leak[key], value, "{key}");
    expect("@timestamp", json!("2024-05-01T10:21:00.000Z"));
    expect("event.kind", json!("signal"));
    expect("kibana.alert.original_time", json!("2024-05-01T10:20:00.000Z"));
    expect("kibana.alert.original_event.kind", json!("alert"));
    expect("kibana.alert.original_event.module", json!("suricata"));
    expect("kibana.alert.original_event.severity", json!(2));
    expect("kibana.alert.original_data_stream.dataset", json!("suricata.eve"));
    expect("kibana.alert.rule.name", json!("Attempted Information Leak"));
    expect("kibana.alert.rule.type", json!("query"));
    expect("kibana.alert.rule.rule_type_id", json!("siem.queryRule"));
    expect("kibana.alert.rule.version", json!("1"));
    expect("kibana.alert.severity", json!("medium"));
    expect("kibana.alert.risk_score", json!(47.0));
    expect("kibana.alert.workflow_status", json!("open"));
    expect("kibana.alert.status", json!("active"));
    expect("kibana.alert.depth", json!(1));
    expect(
        "kibana.alert.reason",
        json!(
            "network, intrusion_detection event with source 81.2.69.143:32858, destination 89.160.20.112:80, created medium alert Attempted Information Leak."
        ),
    );
    let ancestors = leak["kibana.alert.ancestors"].as_array().expect("ancestors");
    assert_eq!(ancestors.len(), 1);
    assert_eq!(ancestors[0]["type"], "event");
    assert_eq!(ancestors[0]["index"], "logs-suricata.eve-default");
    assert_eq!(ancestors[0]["depth"], 0);
    assert!(leak.get("event").and_then(|e| e.get("kind")).is_none(), "the source event.kind is replaced");
    assert_eq!(leak["rule"]["name"], "ET POLICY curl User-Agent Outbound", "source fields are copied");
    let panos =
        external.iter().find(|a| a["kibana.alert.original_data_stream.dataset"] == "panw.panos").expect("PAN-OS");
    assert_eq!(panos["kibana.alert.rule.name"], "External Alerts", "no message: the rule's own name");

    // The flagship: one alert per correlated public address, and nothing else
    let flagship = alerts_of(&alerts, CORRECTED_ID);
    let addresses: BTreeSet<&str> =
        flagship.iter().map(|a| a["Esql.source_ip"].as_str().expect("Esql.source_ip")).collect();
    assert_eq!(addresses, BTreeSet::from(["81.2.69.143", "81.2.69.161", "89.160.20.128"]));
    assert_eq!(flagship.len(), 3);
    let name = "Sign-in to Microsoft 365 or Entra ID from an Address with Network Alerts";
    for a in &flagship {
        assert_eq!(a["@timestamp"], "2024-05-01T11:00:00.000Z");
        assert_eq!(a["kibana.alert.rule.name"], name);
        assert_eq!(a["kibana.alert.rule.type"], "esql");
        assert_eq!(a["kibana.alert.rule.rule_type_id"], "siem.esqlRule");
        assert_eq!(a["kibana.alert.severity"], "high");
        assert_eq!(a["kibana.alert.risk_score"], 73.0);
        assert_eq!(a["kibana.alert.reason"], format!("event created high alert {name}."));
        assert_eq!(a["kibana.alert.depth"], 1);
        assert_eq!(a["kibana.alert.ancestors"], json!([{"id": "", "type": "event", "index": "", "depth": 0}]));
        assert_eq!(
            a["kibana.alert.rule.indices"],
            json!(["logs-o365.audit-*", "logs-azure.signinlogs-*", ".alerts-security.*"])
        );
        assert!(a["kibana.alert.rule.note"].as_str().is_some_and(|n| n.contains("Possible investigation steps")));
        assert_eq!(a["Esql.network_alert_count_distinct"], 1);
        assert!(a.get("kibana.alert.original_time").is_none(), "aggregated rows have no @timestamp");
    }
    let by_ip = |ip: &str| flagship.iter().find(|a| a["Esql.source_ip"] == ip).expect("alert");
    assert_eq!(by_ip("81.2.69.143")["Esql.signin_count_distinct"], 1);
    assert_eq!(by_ip("89.160.20.128")["Esql.mail_access_count_distinct"], 1);
    assert_eq!(by_ip("81.2.69.161")["Esql.event_count"], 100);

    // alerts are an index: ES|QL reads them, as higher-order rules do
    let catalog = engine.store.catalog();
    let out = esql::execute(
        catalog,
        "FROM .alerts-security.* | STATS n = COUNT(*) BY kibana.alert.rule.rule_id | SORT kibana.alert.rule.rule_id",
        &esql::QueryOptions::default(),
    )
    .await
    .expect("alerts are queryable");
    let counted: Vec<(String, i64)> = rows(&out)
        .into_iter()
        .map(|r| match (&r[0], &r[1]) {
            (Cell::Long(n), Cell::Text(id)) => (id.clone(), *n),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(counted, vec![(CORRECTED_ID.to_string(), 3), (EXTERNAL_ALERTS_ID.to_string(), promoted as i64)]);

    // Replaying again writes nothing new: ids are stable, writes are create-only
    let store = MemStore::open(dir.path()).expect("data folder");
    let mut engine = Engine::new(store);
    let again = engine.replay(&selected, at("2024-05-01T10:00:00Z"), at("2024-05-01T11:00:00Z")).await;
    assert_eq!(again.alerts_written(), 0);
    assert_eq!(alerts_file(dir.path()).len(), alerts.len());
}

#[tokio::test]
async fn the_seed_version_writes_no_alert_and_lint_names_its_defect() {
    let (dir, promoted) = data_folder();
    let rules = flagship_rules();
    let selected: Vec<Rule> = [EXTERNAL_ALERTS_ID, SEED_ID].iter().map(|id| rule(&rules, id).clone()).collect();
    let mut engine = Engine::new(MemStore::open(dir.path()).expect("data folder"));
    let summary = engine.replay(&selected, at("2024-05-01T10:00:00Z"), at("2024-05-01T11:00:00Z")).await;
    assert_eq!(summary.errors(), 0, "{:#?}", summary.executions.iter().flat_map(|e| &e.errors).collect::<Vec<_>>());
    let seed_runs: Vec<_> = summary.executions.iter().filter(|e| e.rule_id == SEED_ID).collect();
    assert_eq!(seed_runs.len(), 13, "every 5 minutes");
    assert!(seed_runs.iter().all(|e| e.status == Status::Succeeded && e.alerts_created == 0));
    let alerts = alerts_file(dir.path());
    assert_eq!(alerts_of(&alerts, EXTERNAL_ALERTS_ID).len(), promoted);
    assert!(alerts_of(&alerts, SEED_ID).is_empty(), "the seed version can never fire");

    let findings = lint_rule(rule(&rules, SEED_ID));
    let query = rule(&rules, SEED_ID).query.clone().expect("query");
    let case: Vec<_> = findings.iter().filter(|f| f.check == Check::CaseVariantLiterals).collect();
    assert_eq!(case.len(), 1, "{findings:#?}");
    assert_eq!(case[0].span.text(&query), "\"external alerts\"");
    assert_eq!(case[0].notes[0].1.text(&query), "\"External Alerts\"");
    assert!(case[0].message.starts_with("`kibana.alert.rule.name` is compared with \"external alerts\" here"));
    let never: Vec<_> = findings.iter().filter(|f| f.check == Check::NeverTrue).collect();
    assert_eq!(never.len(), 2, "{findings:#?}");
    assert!(never[0].span.text(&query).starts_with("kibana.alert.rule.name == \"external alerts\""));
    assert!(never[1].message.contains("the rule can never create an alert"));
    for id in [CORRECTED_ID, EXTERNAL_ALERTS_ID] {
        assert!(lint_rule(rule(&rules, id)).is_empty(), "{id}: {:#?}", lint_rule(rule(&rules, id)));
    }
}

#[tokio::test]
async fn late_runs_catch_up_and_record_gaps_in_the_state_file() {
    let (dir, _) = data_folder();
    let rules = flagship_rules();
    let external = rule(&rules, EXTERNAL_ALERTS_ID).clone();
    let mut engine = Engine::new(MemStore::open(dir.path()).expect("data folder"));
    let first = engine.run_at(std::slice::from_ref(&external), at("2024-05-01T10:10:00Z")).await;
    assert_eq!(first.executions[0].windows.len(), 1);
    // five minutes late: three extra one-minute windows cover the three uncovered minutes (and
    // find the PAN-OS alert ingested at 10:12:05)
    let late = engine.execute(&external, at("2024-05-01T10:15:00Z")).await;
    assert_eq!(late.windows.len(), 4, "{:?}", late.windows);
    assert_eq!(late.status, Status::Succeeded);
    assert_eq!(late.alerts_created, 1);
    // an hour late: four extra windows, 54 minutes never searched (the Suricata alerts were
    // ingested then): failed, gap recorded
    let gap = engine.execute(&external, at("2024-05-01T11:15:00Z")).await;
    assert_eq!(gap.windows.len(), 5);
    assert_eq!(gap.status, Status::Failed);
    assert_eq!(gap.alerts_created, 0);
    assert!(gap.errors[0].starts_with("an hour (3240000ms) were not queried"), "{:?}", gap.errors);
    let state: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join(STATE_FILE)).expect("state file"))
        .expect("state JSON");
    let entry = &state["rules"][external.id.as_str()];
    assert_eq!(entry["last_started_at"], "2024-05-01T11:15:00Z");
    assert_eq!(entry["last_status"], "failed");
    assert_eq!(entry["executions"], 3);
    assert_eq!(entry["gaps"], json!([{"gte": "2024-05-01T10:15:00Z", "lte": "2024-05-01T11:09:00Z"}]));
    // a new process reads the state back
    let reopened = MemStore::open(dir.path()).expect("data folder");
    assert_eq!(reopened.load_state().expect("state").rules[&external.id].executions, 3);
}

#[tokio::test]
async fn max_signals_truncates_with_kibanas_warning() {
    let mut store = MemStore::new();
    let docs = (0..7).map(|i| {
        json!({"@timestamp": format!("2024-05-01T10:00:0{i}Z"), "event": {"kind": "alert", "module": "x"}, "message": format!("m{i}")})
    });
    store.add_documents("logs-x-default", docs).expect("documents");
    let obj = json!({"name": "n", "description": "d", "type": "query", "severity": "low", "risk_score": 1,
        "rule_id": "capped", "query": "event.kind:alert", "index": ["logs-*"], "max_signals": 3, "from": "now-1h"});
    let r = Rule::from_api(obj.as_object().expect("object"), detect::rule::Origin { path: "t".into(), line: None })
        .expect("rule");
    let mut engine = Engine::new(store);
    let first = engine.execute(&r, at("2024-05-01T10:30:00Z")).await;
    assert_eq!(first.alerts_created, 3);
    assert_eq!(first.status, Status::PartialFailure);
    assert_eq!(first.warnings, [detect::exec::MAX_SIGNALS_WARNING]);
    // the next run skips what was alerted and continues with the next events, oldest first
    let second = engine.execute(&r, at("2024-05-01T10:31:00Z")).await;
    assert_eq!(second.alerts_created, 3);
    let third = engine.execute(&r, at("2024-05-01T10:32:00Z")).await;
    assert_eq!(third.alerts_created, 1);
    assert_eq!(third.status, Status::Succeeded);
    let names: BTreeSet<String> = engine
        .store
        .alerts()
        .iter()
        .map(|a| a["kibana.alert.original_time"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(names.len(), 7);
}

#[test]
fn the_rule_corpus_loads_and_every_kql_query_parses() {
    let shared = ecs::samples::shared_data_dir().join("../rules");
    let report = load_paths(&[shared.join("esql"), shared.join("query")]);
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    let count = |t: RuleType| report.rules.iter().filter(|r| r.rule_type == t).count();
    assert_eq!(count(RuleType::Esql), 212);
    assert_eq!(count(RuleType::Query), 508);
    let mut can_run: BTreeMap<RuleType, usize> = BTreeMap::new();
    for rule in &report.rules {
        if let Err(e) = detect::validate::kql_parses(rule) {
            panic!("{}: {e}", rule.origin);
        }
        if detect::validate::check(rule).is_ok() {
            *can_run.entry(rule.rule_type).or_default() += 1;
        }
    }
    assert_eq!(can_run[&RuleType::Query], 507, "all but the one lucene rule");
    assert!(can_run[&RuleType::Esql] >= 200, "{can_run:?}");

    let other = load_paths(&[shared.join("other")]);
    assert!(other.errors.is_empty(), "{:#?}", other.errors);
    assert!(other.rules.iter().all(|r| r.unsupported_reason().is_some()));
    let eql = other.rules.iter().find(|r| r.rule_type == RuleType::Eql).expect("an eql rule");
    assert_eq!(eql.unsupported_reason().as_deref(), Some("`eql` rules are not yet supported"));
}

#[tokio::test]
async fn esql_non_aggregating_rows_are_merged_with_their_documents_and_alert_once() {
    let mut store = MemStore::new();
    let docs = (0..3).map(|i| {
        json!({"@timestamp": format!("2024-05-01T10:00:0{i}Z"), "event": {"kind": "alert", "category": ["network"]},
            "source": {"ip": format!("81.2.69.{}", 140 + i)}, "rule": {"name": format!("sig {i}")}})
    });
    store.add_documents("logs-x-default", docs).expect("documents");
    let query = "FROM logs-* | WHERE event.kind == \"alert\" | EVAL Esql.note = CONCAT(\"seen \", rule.name) | KEEP source.ip, Esql.note";
    let obj = json!({"name": "Non-aggregating", "description": "d", "type": "esql", "language": "esql", "query": query,
        "severity": "low", "risk_score": 21, "rule_id": "nonagg", "max_signals": 2, "from": "now-1h", "interval": "5m"});
    let r = Rule::from_api(obj.as_object().expect("object"), detect::rule::Origin { path: "t".into(), line: None })
        .expect("rule");
    let mut engine = Engine::new(store);
    let first = engine.execute(&r, at("2024-05-01T10:30:00Z")).await;
    assert_eq!(first.alerts_created, 2);
    assert_eq!(first.warnings, [detect::exec::MAX_SIGNALS_WARNING]);
    // the overlapping next window skips the two documents already alerted and finds the third
    let second = engine.execute(&r, at("2024-05-01T10:35:00Z")).await;
    assert_eq!(second.alerts_created, 1, "{second:#?}");
    let third = engine.execute(&r, at("2024-05-01T10:40:00Z")).await;
    assert_eq!(third.alerts_created, 0);
    assert_eq!(third.status, Status::Succeeded);
    let alerts = engine.store.alerts();
    assert_eq!(alerts.len(), 3);
    let a = alerts.iter().find(|a| a["source.ip"] == "81.2.69.140").expect("alert for the first document");
    assert_eq!(a["Esql.note"], "seen sig 0", "the row's columns are dotted top-level keys");
    assert_eq!(a["rule"]["name"], "sig 0", "the rest of the source document is kept");
    assert!(a.get("source").is_none(), "the row's value replaces the document's");
    assert_eq!(a["kibana.alert.original_time"], "2024-05-01T10:00:00.000Z");
    assert_eq!(a["kibana.alert.reason"], "network event with source 81.2.69.140 created low alert Non-aggregating.");
    let ancestors = a["kibana.alert.ancestors"].as_array().expect("ancestors");
    assert_eq!(ancestors[0]["index"], "logs-x-default");
    assert_eq!(ancestors[0]["type"], "event");
    assert_eq!(a["kibana.alert.rule.indices"], json!(["logs-*"]));
}

#[tokio::test]
async fn suppression_groups_alerts_by_terms_and_absorbs_later_events_within_the_duration() {
    let mut store = MemStore::new();
    let docs = [("10:00:01", "a"), ("10:00:02", "b"), ("10:00:03", "a"), ("10:00:04", "a")]
        .map(|(t, user)| json!({"@timestamp": format!("2024-05-01T{t}Z"), "event": {"kind": "alert"}, "user": {"name": user}}));
    store.add_documents("logs-x-default", docs.to_vec()).expect("documents");
    store
        .add_documents("logs-x-default", [json!({"@timestamp": "2024-05-01T10:00:05Z", "event": {"kind": "alert"}})])
        .expect("documents");
    let obj = json!({"name": "n", "description": "d", "type": "query", "severity": "low", "risk_score": 1,
        "rule_id": "suppressed", "query": "event.kind:alert", "index": ["logs-*"], "from": "now-1h", "interval": "5m",
        "alert_suppression": {"group_by": ["user.name"], "duration": {"value": 1, "unit": "h"}, "missing_fields_strategy": "doNotSuppress"}});
    let r = Rule::from_api(obj.as_object().expect("object"), detect::rule::Origin { path: "t".into(), line: None })
        .expect("rule");
    let mut engine = Engine::new(store);
    let first = engine.execute(&r, at("2024-05-01T10:05:00Z")).await;
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    // one alert for user a (3 events), one for b, one for the event without user.name
    assert_eq!(first.alerts_created, 3);
    let alerts = engine.store.alerts();
    let of = |user: &str| alerts.iter().find(|a| detect::doc::first(a, "user.name") == Some(&json!(user))).cloned();
    let a = of("a").unwrap_or_else(|| panic!("alert for a: {alerts:#?}"));
    assert_eq!(a["kibana.alert.suppression.docs_count"], json!(2));
    assert_eq!(a["kibana.alert.suppression.start"], json!("2024-05-01T10:00:01.000Z"));
    assert_eq!(a["kibana.alert.suppression.end"], json!("2024-05-01T10:00:04.000Z"));
    assert_eq!(a["kibana.alert.suppression.terms"], json!([{"field": "user.name", "value": ["a"]}]));
    let b = of("b").expect("alert for b");
    assert_eq!(b["kibana.alert.suppression.docs_count"], json!(0));
    assert_ne!(a["kibana.alert.instance.id"], b["kibana.alert.instance.id"]);
    let without: Vec<_> = alerts.iter().filter(|x| x.get("kibana.alert.suppression.terms").is_none()).collect();
    assert_eq!(without.len(), 1, "doNotSuppress: the event without user.name is an ordinary alert");

    // Later events of user a, within the hour: absorbed by the open alert, no new one. Events
    // already counted (the overlapping look-back) are not counted again.
    engine
        .store
        .add_documents(
            "logs-x-default",
            [json!({"@timestamp": "2024-05-01T10:06:00Z", "event": {"kind": "alert"}, "user": {"name": "a"}})],
        )
        .expect("documents");
    let second = engine.execute(&r, at("2024-05-01T10:10:00Z")).await;
    assert!(second.errors.is_empty(), "{:?}", second.errors);
    assert_eq!(second.alerts_created, 0);
    let alerts = engine.store.alerts();
    let a = alerts.iter().find(|x| x["kibana.alert.uuid"] == a["kibana.alert.uuid"]).expect("still there");
    assert_eq!(a["kibana.alert.suppression.docs_count"], json!(3));
    assert_eq!(a["kibana.alert.suppression.end"], json!("2024-05-01T10:06:00.000Z"));
    assert_eq!(a["kibana.alert.last_detected"], json!("2024-05-01T10:10:00.000Z"));
    assert_eq!(alerts.len(), 3);
}

#[tokio::test]
async fn a_rule_enabled_again_starts_afresh_without_catch_up_or_gap() {
    let mut store = MemStore::new();
    let obj = json!({"name": "n", "description": "d", "type": "query", "severity": "low", "risk_score": 1,
        "rule_id": "again", "query": "event.kind:alert", "index": ["logs-*"], "interval": "1m", "from": "now-2m"});
    let r = Rule::from_api(obj.as_object().expect("object"), detect::rule::Origin { path: "t".into(), line: None })
        .expect("rule");
    // it last ran a day ago, then was disabled
    let mut state = store.load_state().expect("state");
    state.rules.entry(r.id.clone()).or_default().last_started_at = Some(Utc::now() - Duration::days(1));
    store.save_state(&state).expect("saved");
    let mut engine = Engine::new(store);
    let rules = std::sync::Arc::new(vec![r]);
    let none = std::sync::Arc::new(Vec::new());
    let mut round = 0;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut reports = Vec::new();
    detect::live::run(
        &mut engine,
        || {
            round += 1;
            if round == 1 { none.clone() } else { rules.clone() }
        },
        stopped,
        |report, _| {
            reports.push(report.clone());
            let _ = stop.send(true);
        },
    )
    .await;
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].windows.len(), 1, "no catch-up windows: {:?}", reports[0].windows);
    assert!(reports[0].gap.is_none());
    assert!(reports[0].errors.is_empty(), "{:?}", reports[0].errors);
}
