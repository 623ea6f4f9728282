//! A realistic ECS event generator for the flagship rule's sources, with attacks hidden in it.
//!
//! Events are spread over `[start, start + duration)` and written as NDJSON, one file per data
//! stream (the file name is the index name, as `saker query --data` reads them):
//!
//! | index | share | what |
//! |---|---|---|
//! | `logs-azure.signinlogs-default` | 25% | Entra ID sign-ins: mostly successes from users' home addresses, some failures |
//! | `logs-o365.audit-default` | 25% | Microsoft 365 audit: `MailItemsAccessed`, `UserLoggedIn`, `FileAccessed` |
//! | `logs-suricata.eve-default` | 15% | network IDS: flows (`event.kind: event`) and a few alerts (`event.kind: alert`) |
//! | `logs-panw.panos-default` | 20% | firewall traffic from private to public addresses |
//! | `logs-system.auth-default` | 15% | benign noise: SSH logins on servers |
//!
//! An **attack** is a public address that first trips an IDS alert and then, within minutes,
//! signs in successfully to Entra ID or reads mail: the corrected flagship rule must alert on it
//! once the External Alerts rule has promoted the IDS alert. **Decoys** look similar but must not
//! alert: alerts from private addresses, alerted addresses whose sign-ins all fail, and sign-ins
//! from documentation ranges. The addresses the rule must alert on are written to
//! `ground_truth.json` beside the data.
//!
//! The output is a pure function of the [`GenConfig`]: the same seed writes the same bytes.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// Number of background events (attacks and decoys come on top).
    pub events: usize,
    /// First timestamp, epoch milliseconds.
    pub start_ms: i64,
    /// Length of the time range, milliseconds.
    pub duration_ms: i64,
    /// Random seed.
    pub seed: u64,
    /// Attack scenarios per 10,000 background events (at least one attack is always hidden).
    pub attacks_per_10k: usize,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig { events: 10_000, start_ms: 0, duration_ms: 3_600_000, seed: 1, attacks_per_10k: 3 }
    }
}

/// What was generated.
#[derive(Debug, Clone, Default)]
pub struct GenReport {
    /// Documents written per index.
    pub documents: BTreeMap<String, usize>,
    /// Bytes written.
    pub bytes: u64,
    /// The public addresses the corrected flagship rule must alert on, sorted.
    pub attack_ips: Vec<String>,
    /// Addresses built to look suspicious that must not alert, sorted.
    pub decoy_ips: Vec<String>,
}

const INDICES: [&str; 5] = [
    "logs-azure.signinlogs-default",
    "logs-o365.audit-default",
    "logs-suricata.eve-default",
    "logs-panw.panos-default",
    "logs-system.auth-default",
];

const FIRST: [&str; 16] = [
    "ana", "ben", "chen", "dara", "eli", "fatima", "gus", "hana", "ivan", "jo", "kai", "lena", "mo", "nia", "omar",
    "priya",
];
const LAST: [&str; 12] =
    ["smith", "garcia", "kim", "okafor", "novak", "rossi", "tanaka", "silva", "ivanova", "haddad", "berg", "lee"];
const DOMAIN: &str = "contoso.example";
const USER_AGENTS: [&str; 5] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Safari/537.36 Edg/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "python-requests/2.32.3",
];
const APPS: [&str; 5] =
    ["Office 365 Exchange Online", "Microsoft Teams", "OfficeHome", "Azure Portal", "SharePoint Online"];
const SIGNATURES: [&str; 6] = [
    "ET SCAN Suspicious inbound to MSSQL port 1433",
    "ET POLICY Possible Kali Linux hostname in DHCP Request Packet",
    "ET CINS Active Threat Intelligence Poor Reputation IP group 42",
    "ET DROP Spamhaus DROP Listed Traffic Inbound group 17",
    "ET SCAN Potential SSH Scan",
    "ET COMPROMISED Known Compromised or Hostile Host Traffic group 9",
];

struct User {
    name: String,
    id: String,
    home_ip: IpAddr,
    agent: &'static str,
}

/// Generates the data set into `dir` (created if missing).
///
/// # Errors
/// When a file cannot be written.
pub fn generate(config: &GenConfig, dir: &Path) -> io::Result<GenReport> {
    std::fs::create_dir_all(dir)?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let users: Vec<User> = (0..200)
        .map(|i| User {
            name: format!("{}.{}{}", FIRST[i % FIRST.len()], LAST[(i / FIRST.len()) % LAST.len()], i / 192),
            id: uuid(&mut rng),
            home_ip: public_ip(&mut rng),
            agent: USER_AGENTS[zipf(&mut rng, USER_AGENTS.len())],
        })
        .collect();
    let servers: Vec<IpAddr> = (0..20).map(|i| IpAddr::V4(Ipv4Addr::new(10, 20, 0, 10 + i))).collect();

    // (timestamp, index, document)
    let mut docs: Vec<(i64, usize, Value)> = Vec::with_capacity(config.events + 64);
    let ts = |rng: &mut ChaCha8Rng| config.start_ms + rng.random_range(0..config.duration_ms.max(1));
    for _ in 0..config.events {
        let t = ts(&mut rng);
        let roll = rng.random_range(0..100);
        let user = &users[zipf(&mut rng, users.len())];
        let (index, doc) = match roll {
            0..25 => {
                let success = rng.random_bool(0.93);
                (0, signin(&mut rng, t, user, user.home_ip, success))
            }
            25..50 => (1, m365(&mut rng, t, user, user.home_ip, None)),
            50..65 => {
                let src = servers[rng.random_range(0..servers.len())];
                let dst = public_ip(&mut rng);
                // Background IDS alerts come from inside (scans, policy hits): not correlated.
                let alert = rng.random_bool(0.02);
                (2, suricata(&mut rng, t, src, dst, alert))
            }
            65..85 => {
                let (src, dst) = (private_ip(&mut rng), public_ip(&mut rng));
                (3, firewall(&mut rng, t, src, dst))
            }
            _ => {
                let (src, host) = (public_or_private(&mut rng), servers[rng.random_range(0..servers.len())]);
                (4, ssh(&mut rng, t, src, host))
            }
        };
        docs.push((t, index, doc));
    }

    let mut report = GenReport::default();
    let attacks = (config.events * config.attacks_per_10k / 10_000).max(1);
    for _ in 0..attacks {
        let ip = public_ip(&mut rng);
        let victim = &users[rng.random_range(0..users.len())];
        let t0 = config.start_ms + rng.random_range(0..(config.duration_ms / 2).max(1));
        docs.push((t0, 2, suricata(&mut rng, t0, ip, servers[0], true)));
        let t1 = t0 + rng.random_range(60_000..1_200_000).min(config.duration_ms / 3 + 1);
        if rng.random_bool(0.5) {
            docs.push((t1, 0, signin(&mut rng, t1, victim, ip, true)));
        } else {
            docs.push((t1, 1, m365(&mut rng, t1, victim, ip, Some("MailItemsAccessed"))));
        }
        report.attack_ips.push(ip.to_string());
    }
    // Decoys: an alert from a private address with a sign-in from it; an alerted public address
    // whose sign-ins all fail; a sign-in from a documentation range after an alert from it.
    let decoy_time = config.start_ms + config.duration_ms / 2;
    let private = IpAddr::V4(Ipv4Addr::new(192, 168, 7, 23));
    let failing = public_ip(&mut rng);
    let doc_range = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 77));
    for (ip, success) in [(private, true), (failing, false), (doc_range, true)] {
        let victim = &users[rng.random_range(0..users.len())];
        docs.push((decoy_time, 2, suricata(&mut rng, decoy_time, ip, servers[1], true)));
        for k in 0..3 {
            let t = decoy_time + 60_000 * (k + 1);
            docs.push((t, 0, signin(&mut rng, t, victim, ip, success)));
        }
        report.decoy_ips.push(ip.to_string());
    }
    docs.retain(|(t, _, _)| *t < config.start_ms + config.duration_ms);
    docs.sort_by_key(|(t, _, _)| *t);
    report.attack_ips.sort();
    report.attack_ips.dedup();
    report.decoy_ips.sort();

    let mut writers = Vec::new();
    for name in INDICES {
        let file = std::fs::File::create(dir.join(format!("{name}.ndjson")))?;
        writers.push(io::BufWriter::with_capacity(1 << 20, file));
    }
    for (t, index, doc) in &mut docs {
        // Fleet's pipeline stamps when the event was ingested, a second or two after it happened.
        if let Some(event) = doc.get_mut("event").and_then(Value::as_object_mut) {
            event.insert("ingested".into(), json!(iso(*t + 500 + t.rem_euclid(1500))));
        }
        let line = doc.to_string();
        writers[*index].write_all(line.as_bytes())?;
        writers[*index].write_all(b"\n")?;
        report.bytes += line.len() as u64 + 1;
        *report.documents.entry(INDICES[*index].to_string()).or_default() += 1;
    }
    for mut w in writers {
        w.flush()?;
    }
    let truth = json!({
        "rule": "M365 or Entra ID Sign-in from a Suspicious Source (corrected)",
        "alert_source_ips": report.attack_ips,
        "decoy_source_ips": report.decoy_ips,
    });
    std::fs::write(dir.join("ground_truth.json"), serde_json::to_string_pretty(&truth)? + "\n")?;
    Ok(report)
}

/// Index into `0..n`, skewed towards small values (a few users and agents dominate).
fn zipf(rng: &mut ChaCha8Rng, n: usize) -> usize {
    let x: f64 = rng.random::<f64>();
    ((x * x * x) * n as f64) as usize % n.max(1)
}

fn uuid(rng: &mut ChaCha8Rng) -> String {
    let a: u128 = rng.random();
    let h = format!("{a:032x}");
    format!("{}-{}-4{}-a{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

/// A public address outside every range the flagship rule excludes (mostly IPv4, some IPv6).
fn public_ip(rng: &mut ChaCha8Rng) -> IpAddr {
    if rng.random_bool(0.1) {
        let s: [u16; 5] = rng.random();
        return IpAddr::V6(Ipv6Addr::new(0x2a02, 0x0c7c, s[0], s[1], s[2], s[3], s[4], 1));
    }
    loop {
        let a = rng.random_range(11..=223u8);
        let ip = Ipv4Addr::new(a, rng.random(), rng.random(), rng.random_range(1..255));
        let o = ip.octets();
        let excluded = matches!(o[0], 100 | 127 | 169 | 172 | 192 | 198 | 203);
        if !excluded {
            return IpAddr::V4(ip);
        }
    }
}

fn private_ip(rng: &mut ChaCha8Rng) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, rng.random_range(0..4), rng.random(), rng.random_range(1..255)))
}

fn public_or_private(rng: &mut ChaCha8Rng) -> IpAddr {
    if rng.random_bool(0.5) { public_ip(rng) } else { private_ip(rng) }
}

fn iso(ms: i64) -> String {
    esql::convert::format_date_millis(ms)
}

fn fleet(dataset: &str) -> Value {
    json!({"type": "logs", "dataset": dataset, "namespace": "default"})
}

fn signin(rng: &mut ChaCha8Rng, t: i64, user: &User, ip: IpAddr, success: bool) -> Value {
    let upn = format!("{}@{DOMAIN}", user.name);
    let (code, result) = if success { (0, "0") } else { (50126, "50126") };
    json!({
        "@timestamp": iso(t),
        "event": {
            "action": "Sign-in activity", "category": ["authentication"], "type": ["info"], "kind": "event",
            "outcome": if success { "success" } else { "failure" }, "dataset": "azure.signinlogs", "module": "azure",
            "duration": 0, "id": uuid(rng)
        },
        "data_stream": fleet("azure.signinlogs"),
        "source": {"ip": ip.to_string(), "address": ip.to_string()},
        "client": {"ip": ip.to_string()},
        "related": {"ip": [ip.to_string()]},
        "user": {"name": user.name, "email": upn, "id": user.id, "domain": DOMAIN},
        "user_agent": {"original": user.agent},
        "cloud": {"provider": "azure"},
        "azure": {
            "signinlogs": {
                "category": if rng.random_bool(0.6) { "SignInLogs" } else { "NonInteractiveUserSignInLogs" },
                "operation_name": "Sign-in activity",
                "result_type": result,
                "caller_ip_address": ip.to_string(),
                "identity": user.name,
                "properties": {
                    "app_display_name": APPS[zipf(rng, APPS.len())],
                    "user_principal_name": upn,
                    "user_id": user.id,
                    "status": {"error_code": code},
                    "is_interactive": rng.random_bool(0.4),
                    "authentication_requirement": if rng.random_bool(0.7) { "multiFactorAuthentication" } else { "singleFactorAuthentication" },
                    "conditional_access_status": if success { "success" } else { "failure" },
                    "risk_level_during_signin": "none"
                }
            },
            "tenant_id": "226f45e7-e2e2-4228-9e9d-612687e8c133"
        },
        "message": if success { "MFA requirement satisfied by claim in the token" } else { "Invalid username or password." }
    })
}

fn m365(rng: &mut ChaCha8Rng, t: i64, user: &User, ip: IpAddr, op: Option<&str>) -> Value {
    let op = op.unwrap_or_else(|| ["MailItemsAccessed", "UserLoggedIn", "FileAccessed", "Send"][zipf(rng, 4)]);
    let (provider, category) = match op {
        "UserLoggedIn" => ("AzureActiveDirectory", json!(["authentication"])),
        "FileAccessed" => ("SharePoint", json!(["file"])),
        _ => ("Exchange", json!(["email"])),
    };
    let upn = format!("{}@{DOMAIN}", user.name);
    json!({
        "@timestamp": iso(t),
        "event": {
            "action": op, "category": category, "type": ["info"], "kind": "event", "outcome": "success",
            "provider": provider, "dataset": "o365.audit", "module": "o365", "code": op, "id": uuid(rng)
        },
        "data_stream": fleet("o365.audit"),
        "source": {"ip": ip.to_string()},
        "client": {"address": ip.to_string(), "ip": ip.to_string()},
        "related": {"ip": [ip.to_string()], "user": [user.name]},
        "user": {"id": upn, "name": user.name, "domain": DOMAIN, "email": upn},
        "user_agent": {"original": user.agent},
        "organization": {"id": "226f45e7-e2e2-4228-9e9d-612687e8c133"},
        "o365": {"audit": {
            "Operation": op, "RecordType": if op == "MailItemsAccessed" { 50 } else { 15 },
            "ResultStatus": "Succeeded", "UserId": upn, "Workload": provider,
            "OperationCount": rng.random_range(1..40)
        }}
    })
}

fn suricata(rng: &mut ChaCha8Rng, t: i64, src: IpAddr, dst: IpAddr, alert: bool) -> Value {
    let sport: u16 = rng.random_range(1024..65535);
    let dport = [443u16, 80, 22, 3389, 1433, 53][zipf(rng, 6)];
    let mut doc = json!({
        "@timestamp": iso(t),
        "event": {
            "kind": if alert { "alert" } else { "event" }, "category": ["network"], "type": ["connection"],
            "dataset": "suricata.eve", "module": "suricata"
        },
        "data_stream": fleet("suricata.eve"),
        "source": {"ip": src.to_string(), "port": sport},
        "destination": {"ip": dst.to_string(), "port": dport},
        "network": {"transport": "tcp", "protocol": if dport == 443 { "tls" } else { "http" }, "community_id": uuid(rng)},
        "related": {"ip": [src.to_string(), dst.to_string()]},
        "observer": {"vendor": "OISF", "product": "Suricata", "type": "ids"},
        "suricata": {"eve": {"event_type": if alert { "alert" } else { "flow" }, "flow_id": rng.random_range(1u64..1 << 50)}}
    });
    if alert {
        let sig = SIGNATURES[rng.random_range(0..SIGNATURES.len())];
        doc["event"]["category"] = json!(["network", "intrusion_detection"]);
        doc["event"]["severity"] = json!(rng.random_range(1..4));
        doc["rule"] = json!({"name": sig, "id": rng.random_range(2_000_000..2_100_000).to_string()});
        doc["suricata"]["eve"]["alert"] = json!({"signature": sig, "action": "allowed", "category": "Misc Attack"});
        doc["message"] = json!(sig);
    }
    doc
}

fn firewall(rng: &mut ChaCha8Rng, t: i64, src: IpAddr, dst: IpAddr) -> Value {
    let allowed = rng.random_bool(0.9);
    json!({
        "@timestamp": iso(t),
        "event": {
            "kind": "event", "category": ["network"], "type": ["connection", if allowed { "allowed" } else { "denied" }],
            "action": if allowed { "flow_started" } else { "flow_dropped" }, "outcome": if allowed { "success" } else { "failure" },
            "dataset": "panw.panos", "module": "panw"
        },
        "data_stream": fleet("panw.panos"),
        "source": {"ip": src.to_string(), "port": rng.random_range(1024..65535u16), "bytes": rng.random_range(60..200_000u32)},
        "destination": {"ip": dst.to_string(), "port": ([443u16, 80, 53, 123][zipf(rng, 4)]), "bytes": rng.random_range(60..2_000_000u32)},
        "network": {"transport": "tcp", "direction": "outbound"},
        "observer": {"vendor": "Palo Alto Networks", "product": "PAN-OS", "type": "firewall", "hostname": "pa-fw-01"},
        "panw": {"panos": {"ruleset": "allow-web", "source": {"zone": "trust"}, "destination": {"zone": "untrust"}}}
    })
}

fn ssh(rng: &mut ChaCha8Rng, t: i64, src: IpAddr, host: IpAddr) -> Value {
    let ok = rng.random_bool(0.8);
    json!({
        "@timestamp": iso(t),
        "event": {
            "kind": "event", "category": ["authentication", "session"], "type": ["start"],
            "action": if ok { "ssh_login" } else { "ssh_login_failed" }, "outcome": if ok { "success" } else { "failure" },
            "dataset": "system.auth", "module": "system"
        },
        "data_stream": fleet("system.auth"),
        "source": {"ip": src.to_string(), "port": rng.random_range(1024..65535u16)},
        "host": {"ip": [host.to_string()], "name": format!("srv-{}", host.to_string().replace('.', "-"))},
        "user": {"name": (["root", "deploy", "backup", "admin"][zipf(rng, 4)])},
        "process": {"name": "sshd", "pid": rng.random_range(300..60_000u32)}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_for_a_seed() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let config = GenConfig { events: 500, ..GenConfig::default() };
        let ra = generate(&config, a.path()).unwrap();
        let rb = generate(&config, b.path()).unwrap();
        assert_eq!(ra.attack_ips, rb.attack_ips);
        for name in INDICES {
            let f = format!("{name}.ndjson");
            assert_eq!(std::fs::read(a.path().join(&f)).unwrap(), std::fs::read(b.path().join(&f)).unwrap());
        }
        assert_eq!(ra.documents.values().sum::<usize>(), 500 + 2 + 3 * 4);
    }

    #[test]
    fn attacks_are_public_and_decoys_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let r =
            generate(&GenConfig { events: 20_000, attacks_per_10k: 5, ..GenConfig::default() }, dir.path()).unwrap();
        assert_eq!(r.attack_ips.len(), 10);
        assert!(r.decoy_ips.contains(&"192.168.7.23".to_string()));
        let truth: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("ground_truth.json")).unwrap()).unwrap();
        assert_eq!(truth["alert_source_ips"].as_array().unwrap().len(), 10);
    }
}
