//! `LIKE` (wildcards `*` and `?`, `\` escapes) and `RLIKE` (Lucene regular expressions), both
//! case-sensitive and matching the whole string.

use crate::udf::{self, EvalCtx, Kernel};
use crate::warnings::WarningSink;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use regex::Regex;
use std::collections::HashMap;
use std::sync::Arc;

/// Translates a LIKE pattern into an anchored regular expression.
pub fn like_to_regex(pattern: &str) -> String {
    let mut out = String::from("(?s)^(?:");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '\\' => match chars.next() {
                Some(n) => out.push_str(&regex::escape(&n.to_string())),
                None => out.push_str(&regex::escape("\\")),
            },
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push_str(")$");
    out
}

/// Translates a Lucene regular expression (as RLIKE uses) into an anchored Rust regex.
///
/// # Errors
/// When the pattern is not a valid regular expression.
pub fn compile_rlike(pattern: &str) -> Result<Regex, String> {
    let mut out = String::from("(?s)^(?:");
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                // Lucene's shorthand classes.
                Some(n @ ('d' | 'D' | 's' | 'S' | 'w' | 'W')) => {
                    out.push('\\');
                    out.push(n);
                }
                Some(n) => out.push_str(&regex::escape(&n.to_string())),
                None => {}
            },
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            // Literal in Lucene syntax, anchors in Rust's.
            '^' | '$' if !in_class => out.push_str(&regex::escape(&c.to_string())),
            '@' if !in_class => out.push_str(".*"),
            '"' if !in_class => {
                // A quoted literal run.
                let mut lit = String::new();
                for n in chars.by_ref() {
                    if n == '"' {
                        break;
                    }
                    lit.push(n);
                }
                out.push_str(&regex::escape(&lit));
            }
            // The empty language: matches nothing.
            '#' if !in_class => out.push_str(r"\b\B"),
            // Intersection, complement and numeric intervals are not supported: read literally.
            '&' | '~' | '<' | '>' if !in_class => out.push_str(&regex::escape(&c.to_string())),
            // Characters that are set operators or nested classes in Rust's classes but plain
            // in Lucene's.
            '[' | '&' | '~' if in_class => out.push_str(&regex::escape(&c.to_string())),
            '-' if in_class && chars.peek() == Some(&'-') => out.push_str("\\-"),
            // A repetition with nothing to repeat is a literal in Lucene.
            '*' | '+' | '?' | '{'
                if !in_class && (out.ends_with("(?:") || out.ends_with('(') || out.ends_with('|')) =>
            {
                out.push_str(&regex::escape(&c.to_string()))
            }
            c => out.push(c),
        }
    }
    out.push_str(")$");
    Regex::new(&out).map_err(|e| e.to_string())
}

fn compile(p: &str, regex: bool) -> Result<Regex, String> {
    if regex { compile_rlike(p) } else { Regex::new(&like_to_regex(p)).map_err(|e| e.to_string()) }
}

/// The expression testing `e` against any of `patterns`; `constants[i]` is pattern `i`'s value
/// when it is a constant (compiled once), otherwise the pattern is compiled per distinct value.
///
/// # Errors
/// When a constant pattern does not compile.
pub fn like_expr(
    e: Expr,
    patterns: Vec<Expr>,
    constants: Vec<Option<String>>,
    regex: bool,
    sink: &WarningSink,
) -> Result<Expr> {
    let mut fixed: Vec<Option<Regex>> = Vec::new();
    for c in &constants {
        fixed.push(match c {
            Some(p) => Some(compile(p, regex).map_err(DataFusionError::Plan)?),
            None => None,
        });
    }
    let fixed = Arc::new(fixed);
    let mut args = vec![e];
    args.extend(patterns);
    let kernel: Kernel = Arc::new(move |args: &[ArrayRef], _ctx: &EvalCtx| {
        let a = &args[0];
        let n = a.len();
        if a.data_type() == &DataType::Null {
            return Ok(Arc::new(BooleanArray::from(vec![None::<bool>; n])) as ArrayRef);
        }
        let s = a.as_string::<i32>();
        let mut cache: HashMap<String, Option<Regex>> = HashMap::new();
        let mut out = Vec::with_capacity(n);
        for row in 0..n {
            if s.is_null(row) {
                out.push(None);
                continue;
            }
            let v = s.value(row);
            let mut matched = false;
            let mut unknown = false;
            for (k, f) in fixed.iter().enumerate() {
                let hit = match f {
                    Some(r) => Some(r.is_match(v)),
                    None => match args[k + 1].as_string_opt::<i32>() {
                        Some(p) if p.is_valid(row) => {
                            let pat = p.value(row);
                            let r = cache.entry(pat.to_string()).or_insert_with(|| compile(pat, regex).ok());
                            r.as_ref().map(|r| r.is_match(v))
                        }
                        _ => None,
                    },
                };
                match hit {
                    Some(true) => {
                        matched = true;
                        break;
                    }
                    Some(false) => {}
                    None => unknown = true,
                }
            }
            out.push(if matched {
                Some(true)
            } else if unknown {
                None
            } else {
                Some(false)
            });
        }
        Ok(Arc::new(BooleanArray::from(out)) as ArrayRef)
    });
    Ok(udf::call(if regex { "rlike" } else { "like" }, DataType::Boolean, sink, args, kernel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        let r = Regex::new(&like_to_regex("foo*ba?")).unwrap();
        assert!(r.is_match("foo123bar"));
        assert!(!r.is_match("xfoo123bar"));
        let r = Regex::new(&like_to_regex("a\\*b")).unwrap();
        assert!(r.is_match("a*b"));
        assert!(!r.is_match("axb"));
    }

    #[test]
    fn rlike_patterns() {
        assert!(compile_rlike(".*foo.*").unwrap().is_match("a foo b"));
        assert!(!compile_rlike("foo").unwrap().is_match("a foo"));
        assert!(compile_rlike("a$b").unwrap().is_match("a$b"));
    }
}
