#[test]
fn probe() {
    let n: usize = std::env::var("N").unwrap().parse().unwrap();
    let kind = std::env::var("K").unwrap();
    std::thread::Builder::new().stack_size(2 << 20).spawn(move || {
        let text = match kind.as_str() {
            "paren" => format!("ROW x = {}1{}", "(".repeat(n), ")".repeat(n)),
            "call" => format!("ROW x = {}1{}", "abs(".repeat(n), ")".repeat(n)),
            "not" => format!("FROM i | WHERE {}a", "NOT ".repeat(n)),
            _ => format!("ROW x = {}1", "-".repeat(n)),
        };
        let _ = esql_syntax::parse(&text);
    }).unwrap().join().unwrap();
}
