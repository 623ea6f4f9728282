//! The byte encoding of `version` values.
//!
//! [`encode`] turns a version string into bytes whose lexicographic (unsigned byte) order is
//! Elastic's `version` field order, and [`decode`] gives the original string back exactly.
//! For valid versions the encoding is the one Elasticsearch's version field uses:
//!
//! * A version is `main[-pre_release][+build]`. It is *valid* when `main` is dot-separated
//!   numbers without leading zeros (`1`, `2.12.0`, `1.2.3.4`), the pre-release part is
//!   dot-separated identifiers that are either numbers without leading zeros or alphanumerics
//!   (with `-`), and the build part is dot-separated alphanumerics (with `-`), each part having at
//!   most 32 identifiers.
//! * Every run of ASCII digits in `main` (and every all-numeric pre-release identifier) is
//!   written as `0x01`, `0x80 | length`, then the digits, so longer numbers sort after shorter
//!   ones and equal-length numbers compare digit by digit: numbers compare numerically.
//! * After `main` comes `0x02 '-'` and the pre-release identifiers when there is a pre-release
//!   part, else `0x03`; so `1.0.0-alpha` sorts before `1.0.0`. Numeric identifiers (starting
//!   with `0x01`) sort before alphanumeric ones, as semver requires.
//! * The build suffix (with its `+`) is appended as is.
//!
//! Invalid versions (`bad`, `1.02`, `-x`) are stored as their raw UTF-8 bytes, which sort after
//! every valid version (valid encodings start with `0x01`); the empty string is `[0x03]`. To
//! keep the round trip exact where Elastic's encoding is lossy, an invalid version containing a
//! byte `0x00..=0x03` writes each such byte `b` as `0x03, 0x10 + b` (order preserving).

const NUMERIC_MARKER: u8 = 0x01;
const PRERELEASE_SEPARATOR: u8 = 0x02;
const NO_PRERELEASE_SEPARATOR: u8 = 0x03;
const ESCAPE_OFFSET: u8 = 0x10;
const MAX_IDENTIFIERS: usize = 32;
const MAX_DIGIT_RUN: usize = 127;

/// Encodes a version string so that byte order is Elastic's version order.
pub fn encode(s: &str) -> Vec<u8> {
    match encode_valid(s) {
        Some(bytes) => bytes,
        None => encode_invalid(s),
    }
}

/// Decodes bytes produced by [`encode`] back to the original string. Bytes that did not come
/// from [`encode`] decode on a best-effort basis (invalid UTF-8 is replaced).
pub fn decode(b: &[u8]) -> String {
    if b.first() == Some(&NUMERIC_MARKER) {
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                NUMERIC_MARKER => i += 2, // the marker and the length byte
                PRERELEASE_SEPARATOR | NO_PRERELEASE_SEPARATOR => i += 1,
                byte => {
                    out.push(byte);
                    i += 1;
                }
            }
        }
        return String::from_utf8_lossy(&out).into_owned();
    }
    if b == [NO_PRERELEASE_SEPARATOR] {
        return String::new();
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == NO_PRERELEASE_SEPARATOR && i + 1 < b.len() {
            out.push(b[i + 1].wrapping_sub(ESCAPE_OFFSET));
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// True when Elastic considers `s` a valid (semver-like) version.
pub fn is_valid(s: &str) -> bool {
    encode_valid(s).is_some()
}

fn encode_invalid(s: &str) -> Vec<u8> {
    if s.is_empty() {
        return vec![NO_PRERELEASE_SEPARATOR];
    }
    let mut out = Vec::with_capacity(s.len());
    for &byte in s.as_bytes() {
        if byte <= NO_PRERELEASE_SEPARATOR {
            out.push(NO_PRERELEASE_SEPARATOR);
            out.push(byte + ESCAPE_OFFSET);
        } else {
            out.push(byte);
        }
    }
    out
}

/// Splits `main[-pre][+build]` the way Elastic does: the build suffix starts at the first `+`,
/// the pre-release at the first `-` before it; a separator at position 0 does not count.
fn split_parts(s: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, build) = match s.find('+') {
        Some(i) if i > 0 => (&s[..i], Some(&s[i..])),
        _ => (s, None),
    };
    let (main, pre) = match rest.find('-') {
        Some(i) if i > 0 => (&rest[..i], Some(&rest[i..])),
        _ => (rest, None),
    };
    (main, pre, build)
}

fn is_number(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && (id == "0" || !id.starts_with('0'))
}

fn is_alnum_hyphen(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn legal_main(main: &str) -> bool {
    main.split('.').all(is_number)
}

fn legal_pre_release(pre: &str) -> bool {
    // `pre` includes the leading `-`.
    let Some(body) = pre.strip_prefix('-') else { return false };
    body.split('.').all(|id| if id.bytes().all(|b| b.is_ascii_digit()) { is_number(id) } else { is_alnum_hyphen(id) })
}

fn legal_build(build: &str) -> bool {
    let Some(body) = build.strip_prefix('+') else { return false };
    body.split('.').all(is_alnum_hyphen)
}

fn too_many_identifiers(part: &str) -> bool {
    part.bytes().filter(|&b| b == b'.').count() + 1 > MAX_IDENTIFIERS
}

fn encode_valid(s: &str) -> Option<Vec<u8>> {
    let (main, pre, build) = split_parts(s);
    let parts = [Some(main), pre, build];
    if parts.iter().flatten().any(|p| too_many_identifiers(p)) {
        return None;
    }
    if !legal_main(main) || !pre.is_none_or(legal_pre_release) || !build.is_none_or(legal_build) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() + 8);
    push_digit_groups(main, &mut out)?;
    match pre {
        Some(pre) => {
            out.push(PRERELEASE_SEPARATOR);
            out.push(b'-');
            for (i, id) in pre[1..].split('.').enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                if id.bytes().all(|b| b.is_ascii_digit()) {
                    push_digit_groups(id, &mut out)?;
                } else {
                    out.extend_from_slice(id.as_bytes());
                }
            }
        }
        None => out.push(NO_PRERELEASE_SEPARATOR),
    }
    if let Some(build) = build {
        out.extend_from_slice(build.as_bytes());
    }
    Some(out)
}

/// Writes `input`, prefixing every run of digits with the numeric marker and its length.
/// `None` when a run is longer than 127 digits (Elastic rejects those).
fn push_digit_groups(input: &str, out: &mut Vec<u8>) -> Option<()> {
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let len = i - start;
            if len > MAX_DIGIT_RUN {
                return None;
            }
            out.push(NUMERIC_MARKER);
            out.push(0x80 | len as u8);
            out.extend_from_slice(&bytes[start..i]);
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut v: Vec<&str>) -> Vec<&str> {
        v.sort_by_key(|s| encode(s));
        v
    }

    #[test]
    fn round_trips() {
        for s in [
            "1",
            "2.1",
            "2.12.0",
            "5.2.9-SNAPSHOT",
            "1.2.3.4",
            "bad",
            "",
            "1.0.0-alpha.1+build.5",
            "1.02",
            "-x",
            "1.0.0-",
            "a\u{1}b\u{3}",
            "\u{3}",
            "\u{0}",
            "Zürich",
            "1.0.0+",
            "0.0.0",
        ] {
            assert_eq!(decode(&encode(s)), s, "round trip of {s:?}");
        }
    }

    #[test]
    fn numeric_parts_compare_numerically() {
        assert_eq!(
            sorted(vec!["2.12.0", "2.3.4", "2.1", "10", "9.9.9"]),
            vec!["2.1", "2.3.4", "2.12.0", "9.9.9", "10"]
        );
        assert!(encode("1.11.0") > encode("1.2.3.4"));
        assert!(encode("1") < encode("1.0"));
    }

    #[test]
    fn pre_release_sorts_before_release() {
        assert!(encode("5.2.9-SNAPSHOT") < encode("5.2.9"));
        assert!(encode("1.0.0-alpha") < encode("1.0.0-alpha.1"));
        assert!(encode("1.0.0-alpha.1") < encode("1.0.0-alpha.beta"));
        assert!(encode("1.0.0-beta.2") < encode("1.0.0-beta.11"));
        assert!(encode("1.0.0-rc.1") < encode("1.0.0"));
        assert!(encode("1.0.0") < encode("1.0.0+build"));
    }

    #[test]
    fn invalid_versions_sort_after_valid_ones() {
        assert!(!is_valid("bad"));
        assert!(!is_valid("1.02"));
        assert!(!is_valid(""));
        assert!(is_valid("1.2.3.4"));
        assert!(encode("999999.0") < encode("bad"));
        assert!(encode("999999.0") < encode(""));
        assert!(encode("bad") < encode("bae"));
        let apps = vec!["1", "2.1", "2.3.4", "2.12.0", "1.11.0", "5.2.9", "5.2.9-SNAPSHOT", "1.2.3.4", "bad"];
        assert_eq!(
            sorted(apps),
            vec!["1", "1.2.3.4", "1.11.0", "2.1", "2.3.4", "2.12.0", "5.2.9-SNAPSHOT", "5.2.9", "bad"]
        );
    }

    #[test]
    fn matches_elastic_encoding_bytes() {
        assert_eq!(encode("1.2"), vec![1, 0x81, b'1', b'.', 1, 0x81, b'2', 3]);
        assert_eq!(encode("1-a.10"), vec![1, 0x81, b'1', 2, b'-', b'a', b'.', 1, 0x82, b'1', b'0']);
        assert_eq!(encode("bad"), b"bad".to_vec());
    }
}
