//! Reading and editing JSON documents whose fields may be nested objects (`{"source":{"ip":…}}`),
//! dotted keys (`{"source.ip":…}`) or any mix, as Elasticsearch's `_source` allows.

use serde_json::{Map, Value};

/// Every value at `path`: arrays are flattened (a field holding `[a, b]` gives `a` and `b`), and
/// arrays of objects are searched one by one, as Elasticsearch's `fields` API reads them.
pub fn values<'a>(doc: &'a Map<String, Value>, path: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    collect(doc, path, &mut out);
    out
}

fn collect<'a>(doc: &'a Map<String, Value>, path: &str, out: &mut Vec<&'a Value>) {
    if let Some(v) = doc.get(path) {
        push_leaf(v, out);
    }
    for (i, _) in path.match_indices('.') {
        let (head, tail) = (&path[..i], &path[i + 1..]);
        match doc.get(head) {
            Some(Value::Object(inner)) => collect(inner, tail, out),
            Some(Value::Array(items)) => {
                for item in items {
                    if let Value::Object(inner) = item {
                        collect(inner, tail, out);
                    }
                }
            }
            _ => {}
        }
    }
}

fn push_leaf<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                push_leaf(item, out);
            }
        }
        other => out.push(other),
    }
}

/// The first value at `path` (see [`values`]).
pub fn first<'a>(doc: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    values(doc, path).into_iter().next()
}

/// The value at `path` as a string when it is exactly one string (not an array of several).
pub fn single_string<'a>(doc: &'a Map<String, Value>, path: &str) -> Option<&'a str> {
    let vs = values(doc, path);
    match vs.as_slice() {
        [Value::String(s)] => Some(s.as_str()),
        _ => None,
    }
}

/// The raw value at `path` (nested or dotted), without flattening arrays.
pub fn raw<'a>(doc: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = doc.get(path) {
        return Some(v);
    }
    for (i, _) in path.match_indices('.') {
        if let Some(Value::Object(inner)) = doc.get(&path[..i])
            && let Some(v) = raw(inner, &path[i + 1..])
        {
            return Some(v);
        }
    }
    None
}

/// Removes the value at `path`, written nested or dotted; objects left empty are removed too.
/// True when something was removed.
pub fn remove(doc: &mut Map<String, Value>, path: &str) -> bool {
    let mut removed = doc.remove(path).is_some();
    let splits: Vec<usize> = path.match_indices('.').map(|(i, _)| i).collect();
    for i in splits {
        let (head, tail) = (&path[..i], &path[i + 1..]);
        if let Some(Value::Object(inner)) = doc.get_mut(head) {
            if remove(inner, tail) {
                removed = true;
            }
            if inner.is_empty() {
                doc.remove(head);
            }
        }
    }
    removed
}

/// Every leaf of the document as `(dotted path, value)`; arrays of scalars are one leaf, arrays
/// of objects are flattened into their leaves (values collected per path).
pub fn leaves(doc: &Map<String, Value>) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::new();
    walk("", doc, &mut out);
    out
}

fn walk(prefix: &str, doc: &Map<String, Value>, out: &mut Vec<(String, Value)>) {
    for (k, v) in doc {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            Value::Object(inner) => walk(&path, inner, out),
            Value::Array(items) if items.iter().any(Value::is_object) => {
                let mut nested: Vec<(String, Value)> = Vec::new();
                for item in items {
                    if let Value::Object(inner) = item {
                        walk(&path, inner, &mut nested);
                    }
                }
                for (p, v) in nested {
                    match out.iter_mut().find(|(q, _)| *q == p) {
                        Some((_, Value::Array(existing))) => existing.push(v),
                        Some((_, existing)) => *existing = Value::Array(vec![existing.clone(), v]),
                        None => out.push((p, v)),
                    }
                }
            }
            other => out.push((path, other.clone())),
        }
    }
}

/// A value as the text Kibana shows for it (strings as is, others as JSON).
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn nested_dotted_and_arrays_read_alike() {
        let doc = obj(json!({"source": {"ip": "1.2.3.4"}, "event.category": ["a", "b"],
            "threat": [{"x": {"id": 1}}, {"x": {"id": 2}}], "a": {"b.c": "d"}}));
        assert_eq!(values(&doc, "source.ip"), [&json!("1.2.3.4")]);
        assert_eq!(values(&doc, "event.category"), [&json!("a"), &json!("b")]);
        assert_eq!(values(&doc, "threat.x.id"), [&json!(1), &json!(2)]);
        assert_eq!(single_string(&doc, "a.b.c"), Some("d"));
        assert_eq!(single_string(&doc, "event.category"), None);
    }

    #[test]
    fn remove_cleans_empty_parents() {
        let mut doc = obj(json!({"event": {"kind": "alert"}, "host.name": "h", "x": {"y": 1, "z": 2}}));
        assert!(remove(&mut doc, "event.kind"));
        assert!(remove(&mut doc, "host.name"));
        assert!(remove(&mut doc, "x.y"));
        assert!(!remove(&mut doc, "nope"));
        assert_eq!(Value::Object(doc), json!({"x": {"z": 2}}));
    }

    #[test]
    fn leaves_are_dotted() {
        let doc = obj(json!({"event": {"kind": "alert", "category": ["network"]}, "a.b": 1}));
        let l = leaves(&doc);
        assert_eq!(
            l,
            vec![
                ("a.b".to_string(), json!(1)),
                ("event.category".to_string(), json!(["network"])),
                ("event.kind".to_string(), json!("alert")),
            ]
        );
    }
}
