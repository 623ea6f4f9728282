use esql::ir::Column;
use std::sync::Arc;

#[test]
fn scratch_translate_all_rules() {
    let text = std::fs::read_to_string("/tmp/kql_queries.json").unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cols: Vec<Column> = ecs::catalog::EcsCatalog::fields()
        .into_iter()
        .map(|f| Column { name: f.name, ty: f.es_type, multi: f.multi })
        .collect();
    let cat = Arc::new(ecs::catalog::EcsCatalog::for_patterns(&["logs-*"]));
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let mut fails = 0;
    let t0 = std::time::Instant::now();
    for item in v.as_array().unwrap() {
        let q = item["query"].as_str().unwrap();
        match esql::kql::translate(q, &cols, Default::default()) {
            Ok(_) => {}
            Err(e) => {
                fails += 1;
                eprintln!("{}: {e}", item["file"]);
            }
        }
    }
    eprintln!("translate: {} fails of {} in {:?}", fails, v.as_array().unwrap().len(), t0.elapsed());
    let t0 = std::time::Instant::now();
    let mut efails = 0;
    for item in v.as_array().unwrap().iter().step_by(40) {
        let q = item["query"].as_str().unwrap();
        let q = q.replace(['\n', '\r'], " "); let esql = format!("FROM logs-x | WHERE KQL(\"\"\"{q}\"\"\") | LIMIT 1");
        if let Err(e) = rt.block_on(esql::execute(cat.clone(), &esql, &esql::QueryOptions::default())) {
            efails += 1;
            let s = e.to_string();
            if !s.contains("failed to create query") { eprintln!("EXEC {}: {}", item["file"], &s[..s.len().min(300)]); }
        }
    }
    eprintln!("execute: {} fails in {:?}", efails, t0.elapsed());
}
