//! Index names as Elasticsearch names them: data streams (`logs-<dataset>-<namespace>`), plain
//! indices, and hidden indices (`.alerts-security.alerts-default`).

use std::fmt;

/// The data stream types with built-in index templates (`<type>-*-*`).
pub const DATA_STREAM_TYPES: [&str; 4] = ["logs", "metrics", "traces", "synthetics"];

/// What kind of index a name designates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexKind {
    /// A data stream `<type>-<dataset>-<namespace>`: append-only, `@timestamp` required, and the
    /// `data_stream.*` fields are constants taken from the name.
    DataStream {
        /// `logs`, `metrics`, …
        kind: String,
        /// `azure.signinlogs`
        dataset: String,
        /// `default`
        namespace: String,
    },
    /// A plain index (hidden when the name starts with `.`).
    Plain,
}

impl IndexKind {
    /// The kind of index `name` designates (the name must be valid, see [`validate_index_name`]).
    pub fn of(name: &str) -> IndexKind {
        let mut parts = name.splitn(2, '-');
        let (Some(kind), Some(rest)) = (parts.next(), parts.next()) else {
            return IndexKind::Plain;
        };
        if !DATA_STREAM_TYPES.contains(&kind) {
            return IndexKind::Plain;
        }
        // the dataset may not contain `-`; the namespace is the rest after the next `-`
        let Some((dataset, namespace)) = rest.split_once('-') else {
            return IndexKind::Plain;
        };
        if dataset.is_empty() || namespace.is_empty() || namespace.contains('-') {
            return IndexKind::Plain;
        }
        IndexKind::DataStream { kind: kind.to_string(), dataset: dataset.to_string(), namespace: namespace.to_string() }
    }

    /// True for a data stream.
    pub fn is_data_stream(&self) -> bool {
        matches!(self, IndexKind::DataStream { .. })
    }
}

/// Why a name is not a valid index name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidIndexName {
    /// The name.
    pub name: String,
    /// Why, in Elasticsearch's words.
    pub reason: String,
}

impl fmt::Display for InvalidIndexName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid index name [{}], {}", self.name, self.reason)
    }
}

impl std::error::Error for InvalidIndexName {}

/// Checks a name against Elasticsearch's index name rules: lowercase, no `\ / * ? " < > | , #`,
/// space or `:`, not starting with `-`, `_` or `+`, not `.` or `..`, at most 255 bytes.
///
/// # Errors
/// The rule the name breaks, worded as Elasticsearch's `invalid_index_name_exception`.
pub fn validate_index_name(name: &str) -> Result<(), InvalidIndexName> {
    let invalid = |reason: &str| Err(InvalidIndexName { name: name.to_string(), reason: reason.to_string() });
    if name.is_empty() {
        return invalid("must not be empty");
    }
    if name == "." || name == ".." {
        return invalid("must not be '.' or '..'");
    }
    if name.len() > 255 {
        return invalid("index name is too long, (> 255)");
    }
    if name.starts_with(['-', '_', '+']) {
        return invalid("must not start with '_', '-', or '+'");
    }
    if name.chars().any(|c| c.is_uppercase()) {
        return invalid("must be lowercase");
    }
    if name.contains(['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':']) || name.contains(char::is_control) {
        return invalid("must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?, #, :]");
    }
    Ok(())
}

/// The data stream a document goes to when no index is named: `<type>-<dataset>-<namespace>` from
/// its `data_stream.*` fields, `logs`, `generic` and `default` when absent (as Elastic Agent's
/// reroute defaults). `dataset` has `-` replaced by `_`, as the `reroute` processor sanitises it.
pub fn data_stream_name(kind: Option<&str>, dataset: Option<&str>, namespace: Option<&str>) -> String {
    let parts = [kind.unwrap_or("logs"), dataset.unwrap_or("generic"), namespace.unwrap_or("default")];
    let mut name: Vec<u8> = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            name.push(b'-');
        }
        // every document names its data stream: the usual ASCII names byte by byte
        if part.is_ascii() {
            name.extend(part.bytes().map(|b| if b == b'-' { b'_' } else { b.to_ascii_lowercase() }));
        } else {
            name.extend_from_slice(part.replace('-', "_").to_lowercase().as_bytes());
        }
    }
    // ASCII bytes mapped to ASCII, and whole strings: UTF-8
    String::from_utf8(name).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(
            IndexKind::of("logs-azure.signinlogs-default"),
            IndexKind::DataStream {
                kind: "logs".into(),
                dataset: "azure.signinlogs".into(),
                namespace: "default".into()
            }
        );
        assert!(IndexKind::of("metrics-system.cpu-prod").is_data_stream());
        assert_eq!(IndexKind::of("logs-x"), IndexKind::Plain);
        assert_eq!(IndexKind::of("logs-a-b-c"), IndexKind::Plain);
        assert_eq!(IndexKind::of("events-a-b"), IndexKind::Plain);
        assert_eq!(IndexKind::of(".alerts-security.alerts-default"), IndexKind::Plain);
    }

    #[test]
    fn data_stream_names() {
        assert_eq!(data_stream_name(None, None, None), "logs-generic-default");
        assert_eq!(data_stream_name(Some("Logs"), Some("my-App.X"), Some("PROD")), "logs-my_app.x-prod");
        assert_eq!(data_stream_name(Some("logs"), Some("Émoi-Ü"), None), "logs-émoi_ü-default");
    }

    #[test]
    fn validation() {
        for ok in ["logs-a-b", ".alerts-security.alerts-default", "my-index", "a.b_c"] {
            assert!(validate_index_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "_x", "-x", "+x", "Upper", "a b", "a*", "a:b", "a,b", "a/b"] {
            assert!(validate_index_name(bad).is_err(), "{bad}");
        }
        assert!(validate_index_name(&"a".repeat(256)).is_err());
    }

    #[test]
    fn routing() {
        assert_eq!(data_stream_name(None, None, None), "logs-generic-default");
        assert_eq!(data_stream_name(Some("logs"), Some("o365.audit"), Some("prod")), "logs-o365.audit-prod");
        assert_eq!(data_stream_name(None, Some("my-app"), None), "logs-my_app-default");
    }
}
