use std::sync::Arc;

#[test]
fn scratch_timing() {
    let cat = Arc::new(ecs::catalog::EcsCatalog::for_patterns(&["logs-*"]));
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let text = std::fs::read_to_string("/tmp/kql_queries.json").unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for q in ["FROM logs-x | WHERE true | LIMIT 1".to_string(), "FROM logs-x | WHERE KQL(\"host.name:x\") | LIMIT 1".to_string(),
        format!("FROM logs-x | WHERE KQL(\"\"\"{}\"\"\") | LIMIT 1", v[0]["query"].as_str().unwrap().replace(['\n','\r'], " ")),
        format!("FROM logs-x | WHERE KQL(\"\"\"{}\"\"\") | LIMIT 1", v[300]["query"].as_str().unwrap().replace(['\n','\r'], " ")),
    ] {
        let t0 = std::time::Instant::now();
        let r = rt.block_on(esql::execute(cat.clone(), &q, &esql::QueryOptions::default()));
        eprintln!("{:?} {:?} {}", t0.elapsed(), r.as_ref().err().map(|e| e.to_string()), &q[..q.len().min(200)]);
    }
}
