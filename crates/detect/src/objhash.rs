//! A port of the npm package `object-hash` (v3, default options: SHA-1, hex) for the values
//! Kibana hashes into ES|QL alert ids: arrays of strings, numbers, `null` and `undefined`.
//!
//! object-hash serialises a value into the hash as `array:<len>:` followed by each entry,
//! `string:<UTF-16 length>:<text>`, `number:<JS toString>`, `bool:<b>`, `Null`, `Undefined`.
//! Deviation: objects are serialised as `object:<n>:` + `key:value,` pairs in key order without
//! the prototype/constructor entries object-hash's `respectType` adds, so ids hashed from whole
//! objects (MV_EXPAND rows whose expanded field was dropped) differ from Kibana's.

use sha1::{Digest, Sha1};

/// A value object-hash can serialise.
#[derive(Debug, Clone, PartialEq)]
pub enum HashValue {
    /// JavaScript `undefined`.
    Undefined,
    /// `null`
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (integers print without a fraction, as JavaScript does).
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<HashValue>),
    /// An object (keys sorted when hashed).
    Object(Vec<(String, HashValue)>),
}

impl From<&serde_json::Value> for HashValue {
    fn from(v: &serde_json::Value) -> HashValue {
        match v {
            serde_json::Value::Null => HashValue::Null,
            serde_json::Value::Bool(b) => HashValue::Bool(*b),
            serde_json::Value::Number(n) => HashValue::Number(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => HashValue::String(s.clone()),
            serde_json::Value::Array(a) => HashValue::Array(a.iter().map(HashValue::from).collect()),
            serde_json::Value::Object(o) => {
                HashValue::Object(o.iter().map(|(k, v)| (k.clone(), HashValue::from(v))).collect())
            }
        }
    }
}

impl From<&str> for HashValue {
    fn from(s: &str) -> HashValue {
        HashValue::String(s.to_string())
    }
}

/// `objectHash(value)`: the SHA-1 hex digest of object-hash's serialisation.
pub fn object_hash(value: &HashValue) -> String {
    let mut hasher = Sha1::new();
    write(&mut hasher, value);
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn write(h: &mut Sha1, value: &HashValue) {
    match value {
        HashValue::Undefined => h.update(b"Undefined"),
        HashValue::Null => h.update(b"Null"),
        HashValue::Bool(b) => h.update(format!("bool:{b}").as_bytes()),
        HashValue::Number(n) => h.update(format!("number:{}", js_number(*n)).as_bytes()),
        HashValue::String(s) => {
            h.update(format!("string:{}:", s.encode_utf16().count()).as_bytes());
            h.update(s.as_bytes());
        }
        HashValue::Array(items) => {
            h.update(format!("array:{}:", items.len()).as_bytes());
            for item in items {
                write(h, item);
            }
        }
        HashValue::Object(entries) => {
            let mut sorted: Vec<&(String, HashValue)> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            h.update(format!("object:{}:", sorted.len()).as_bytes());
            for (k, v) in sorted {
                write(h, &HashValue::String(k.clone()));
                h.update(b":");
                write(h, v);
                h.update(b",");
            }
        }
    }
}

/// A number as JavaScript's `Number.prototype.toString` writes it, for the common cases.
fn js_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_string()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{}", n as i128)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialisation_matches_object_hash() {
        // sha1("array:2:string:1:aNumber:1") computed independently of this module.
        let mut h = Sha1::new();
        h.update(b"array:3:string:1:anumber:1Undefined");
        let expected: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let value = HashValue::Array(vec![HashValue::from("a"), HashValue::Number(1.0), HashValue::Undefined]);
        assert_eq!(object_hash(&value), expected);
    }

    #[test]
    fn string_lengths_are_utf16() {
        let mut h = Sha1::new();
        h.update("string:2:😀".as_bytes());
        let expected: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(object_hash(&HashValue::from("😀")), expected);
    }

    #[test]
    fn numbers_print_like_javascript() {
        assert_eq!(js_number(3.0), "3");
        assert_eq!(js_number(1.5), "1.5");
        assert_eq!(js_number(-0.0), "0");
    }
}
