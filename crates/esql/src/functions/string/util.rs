//! Helpers shared by the string functions: typed views of argument arrays, Java's notion of
//! whitespace, code-point indexing and the result-size limit Elastic enforces.

use crate::functions::{ArgInfo, ordinal};
use crate::warnings::WarningSink;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int32Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::common::{DataFusionError, Result};
use std::sync::Arc;

/// The largest string (in bytes) Elastic lets a function build: 1 MiB.
pub const MAX_RESULT_BYTES: usize = 1024 * 1024;

/// The rows of a string argument (null where null; an all-null `Null` array is allowed).
pub fn strs(a: &ArrayRef) -> Result<Vec<Option<&str>>> {
    match a.data_type() {
        DataType::Null => Ok(vec![None; a.len()]),
        DataType::Utf8 => Ok(a.as_string::<i32>().iter().collect()),
        DataType::LargeUtf8 => Ok(a.as_string::<i64>().iter().collect()),
        DataType::Utf8View => Ok(a.as_string_view().iter().collect()),
        other => Err(DataFusionError::Internal(format!("expected a string array, found {other}"))),
    }
}

/// The rows of an integer argument.
pub fn ints(a: &ArrayRef) -> Result<Vec<Option<i32>>> {
    match a.data_type() {
        DataType::Null => Ok(vec![None; a.len()]),
        DataType::Int32 => Ok(a.as_primitive::<Int32Type>().iter().collect()),
        other => Err(DataFusionError::Internal(format!("expected an integer array, found {other}"))),
    }
}

/// Java's `Character.isWhitespace`: Unicode space separators other than the no-break spaces,
/// line and paragraph separators, and the ASCII controls `\t \n \u{b} \u{c} \r` and
/// `\u{1c}`–`\u{1f}`.
pub fn java_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\u{1c}'..='\u{1f}'
            | ' '
            | '\u{1680}'
            | '\u{2000}'..='\u{2006}'
            | '\u{2008}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// The byte offset of the `n`-th code point of `s` (`s.len()` when `n` is past the end).
pub fn byte_offset(s: &str, n: usize) -> usize {
    if s.is_ascii() {
        return n.min(s.len());
    }
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// The number of code points in `s`.
pub fn code_points(s: &str) -> usize {
    if s.is_ascii() { s.len() } else { s.chars().count() }
}

/// Elastic's 1-based (0 treated as 1, negative counted from the end) start position, as a
/// 0-based code-point index clamped to `0..=count`.
pub fn start_index(count: usize, start: i32) -> usize {
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let idx = match start {
        s if s > 0 => i64::from(s) - 1,
        s if s < 0 => count + i64::from(s),
        _ => 0,
    };
    usize::try_from(idx.clamp(0, count)).unwrap_or(0)
}

/// Elastic's `isString` check: `[ordinal ]argument of [call] must be [string], found value [x]
/// type [t]`. `with_ordinal` is false for functions whose arguments Elastic does not number.
pub fn expect_string(call: &str, args: &[ArgInfo], i: usize, with_ordinal: bool) -> Result<(), String> {
    expect(call, args, i, with_ordinal, |t| t.is_string(), "string")
}

/// Elastic's `isType(.., INTEGER)` check (only `integer`; `long` is rejected).
pub fn expect_integer(call: &str, args: &[ArgInfo], i: usize, with_ordinal: bool) -> Result<(), String> {
    expect(call, args, i, with_ordinal, |t| t == crate::types::EsType::Integer, "integer")
}

/// A type check with Elastic's message.
pub fn expect(
    call: &str,
    args: &[ArgInfo],
    i: usize,
    with_ordinal: bool,
    ok: impl Fn(crate::types::EsType) -> bool,
    described: &str,
) -> Result<(), String> {
    let Some(a) = args.get(i) else { return Ok(()) };
    if a.ty == crate::types::EsType::Null || ok(a.ty) {
        return Ok(());
    }
    let position = if with_ordinal { format!("{} ", ordinal(i)) } else { String::new() };
    Err(format!("{position}argument of [{call}] must be [{described}], found value [{}] type [{}]", a.text, a.ty))
}

/// The constant string value of argument `i`, when it is a string literal.
pub fn const_str<'a>(literals: &[Option<&'a crate::ir::Literal>], i: usize) -> Option<&'a str> {
    match literals.get(i).copied().flatten() {
        Some(crate::ir::Literal::String(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Why a row produced no value.
#[derive(Debug, Clone, PartialEq)]
pub enum Fail {
    /// The row is null and Elastic records this exception text as a warning.
    Warn(String),
    /// The whole query fails with this message (Elastic lets the exception escape).
    Fatal(String),
}

impl Fail {
    /// A warning for a `java.lang.IllegalArgumentException` with `message`.
    pub fn illegal_argument(message: impl std::fmt::Display) -> Fail {
        Fail::Warn(format!("java.lang.IllegalArgumentException: {message}"))
    }
}

/// Evaluates `f` for each row: `Ok(None)` is null, a warning failure is null plus the warning,
/// a fatal failure aborts the query.
pub fn per_row<T>(
    rows: usize,
    sink: &WarningSink,
    mut f: impl FnMut(usize) -> Result<Option<T>, Fail>,
) -> Result<Vec<Option<T>>> {
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        match f(row) {
            Ok(v) => out.push(v),
            Err(Fail::Warn(m)) => {
                sink.null_because(&m);
                out.push(None);
            }
            Err(Fail::Fatal(m)) => return Err(DataFusionError::Execution(m)),
        }
    }
    Ok(out)
}

/// A keyword array from per-row results.
pub fn string_array<S: AsRef<str>>(values: &[Option<S>]) -> ArrayRef {
    Arc::new(values.iter().map(|v| v.as_ref().map(AsRef::as_ref)).collect::<StringArray>())
}

/// Maps a single string argument row by row.
pub fn map_string<'a, S: AsRef<str>>(
    a: &'a ArrayRef,
    sink: &WarningSink,
    mut f: impl FnMut(&'a str) -> Result<Option<S>, Fail>,
) -> Result<ArrayRef> {
    let col = strs(a)?;
    let out = per_row(col.len(), sink, |row| match col[row] {
        Some(s) => f(s),
        None => Ok(None),
    })?;
    Ok(string_array(&out))
}

/// Maps a single string argument to integers row by row.
pub fn map_to_int(a: &ArrayRef, sink: &WarningSink, mut f: impl FnMut(&str) -> Result<i32, Fail>) -> Result<ArrayRef> {
    let col = strs(a)?;
    let out = per_row(col.len(), sink, |row| col[row].map(&mut f).transpose())?;
    Ok(Arc::new(Int32Array::from(out)))
}

/// Tests two string arguments row by row (null when either is null).
pub fn test_pair(a: &ArrayRef, b: &ArrayRef, f: impl Fn(&str, &str) -> bool) -> Result<ArrayRef> {
    let (a, b) = (strs(a)?, strs(b)?);
    let out: BooleanArray = a.iter().zip(&b).map(|(x, y)| Some(f((*x)?, (*y)?))).collect();
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_whitespace_matches_character_is_whitespace() {
        for c in [' ', '\t', '\n', '\u{b}', '\u{c}', '\r', '\u{1c}', '\u{1f}', '\u{2003}', '\u{3000}', '\u{2028}'] {
            assert!(java_whitespace(c), "{c:?}");
        }
        for c in ['\u{a0}', '\u{2007}', '\u{202f}', '\u{85}', 'a', '\u{0}', '\u{180e}'] {
            assert!(!java_whitespace(c), "{c:?}");
        }
    }

    #[test]
    fn start_positions() {
        assert_eq!(start_index(5, 1), 0);
        assert_eq!(start_index(5, 0), 0);
        assert_eq!(start_index(5, 3), 2);
        assert_eq!(start_index(5, -2), 3);
        assert_eq!(start_index(5, -10), 0);
        assert_eq!(start_index(5, 10), 5);
        assert_eq!(start_index(5, i32::MIN), 0);
        assert_eq!(start_index(5, i32::MAX), 5);
    }

    #[test]
    fn offsets() {
        assert_eq!(byte_offset("héllo", 2), 3);
        assert_eq!(byte_offset("héllo", 9), 6);
        assert_eq!(byte_offset("abc", 9), 3);
        assert_eq!(code_points("❗️"), 2);
    }
}
