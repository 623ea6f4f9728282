//! `GROK` patterns: `%{SYNTAX:name[:type]}` references to named regular expressions, expanded
//! into one regular expression with named groups.

use crate::types::EsType;
use regex::Regex;

/// The built-in pattern names and their regular expressions (Saker's own definitions of the
/// commonly used grok vocabulary).
const PATTERNS: &[(&str, &str)] = &[
    ("USERNAME", r"[a-zA-Z0-9._-]+"),
    ("USER", r"%{USERNAME}"),
    ("EMAILLOCALPART", r"[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+)*"),
    ("EMAILADDRESS", r"%{EMAILLOCALPART}@%{HOSTNAME}"),
    ("INT", r"[+-]?[0-9]+"),
    ("BASE10NUM", r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)"),
    ("NUMBER", r"%{BASE10NUM}"),
    ("BASE16NUM", r"[+-]?(?:0x)?[0-9A-Fa-f]+"),
    ("POSINT", r"[1-9][0-9]*"),
    ("NONNEGINT", r"[0-9]+"),
    ("WORD", r"\b\w+\b"),
    ("NOTSPACE", r"\S+"),
    ("SPACE", r"\s*"),
    ("DATA", r".*?"),
    ("GREEDYDATA", r".*"),
    ("QUOTEDSTRING", r#""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`"#),
    ("QS", r"%{QUOTEDSTRING}"),
    ("UUID", r"[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}"),
    ("MAC", r"(?:[A-Fa-f0-9]{2}[:-]){5}[A-Fa-f0-9]{2}|(?:[A-Fa-f0-9]{4}\.){2}[A-Fa-f0-9]{4}"),
    ("IPV4", r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"),
    ("IPV6", r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|%{IPV4})?"),
    ("IP", r"%{IPV6}|%{IPV4}"),
    ("HOSTNAME", r"\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*\.?\b"),
    ("IPORHOST", r"%{IP}|%{HOSTNAME}"),
    ("HOSTPORT", r"%{IPORHOST}:%{POSINT}"),
    ("URIHOST", r"%{IPORHOST}(?::%{POSINT})?"),
    ("URIPATHPARAM", r"%{URIPATH}(?:%{URIPARAM})?"),
    ("URI", r"%{URIPROTO}://(?:%{USER}(?::[^@]*)?@)?(?:%{URIHOST})?(?:%{URIPATHPARAM})?"),
    ("PATH", r"%{UNIXPATH}|%{WINPATH}"),
    ("UNIXPATH", r"(?:/[\w_%!$@:.,+~-]*)+"),
    ("WINPATH", r"(?:[A-Za-z]+:|\\)(?:\\[^\\?*]*)+"),
    ("URIPROTO", r"[A-Za-z][A-Za-z0-9+\-.]*"),
    ("URIPATH", r"(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_\-]*)+"),
    ("URIPARAM", r"\?[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\-\[\]<>]*"),
    ("MONTHNUM", r"0?[1-9]|1[0-2]"),
    ("MONTHDAY", r"(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9]"),
    ("YEAR", r"(?:\d\d){1,2}"),
    ("HOUR", r"2[0123]|[01]?[0-9]"),
    ("MINUTE", r"[0-5][0-9]"),
    ("SECOND", r"(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?"),
    ("TIME", r"%{HOUR}:%{MINUTE}(?::%{SECOND})?"),
    ("ISO8601_TIMEZONE", r"Z|[+-]%{HOUR}(?::?%{MINUTE})?"),
    ("TIMESTAMP_ISO8601", r"%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?%{ISO8601_TIMEZONE}?"),
    (
        "LOGLEVEL",
        r"[Aa]lert|ALERT|[Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo?(?:rmation)?|INFO?(?:RMATION)?|[Ww]arn?(?:ing)?|WARN?(?:ING)?|[Ee]rr?(?:or)?|ERR?(?:OR)?|[Cc]rit?(?:ical)?|CRIT?(?:ICAL)?|[Ff]atal|FATAL|[Ss]evere|SEVERE|EMERG(?:ENCY)?|[Ee]merg(?:ency)?",
    ),
];

/// A compiled grok pattern.
#[derive(Debug, Clone)]
pub struct Grok {
    regex: Regex,
    /// Output names and types, in pattern order; the regex group of each is `g{i}`.
    outputs: Vec<(String, EsType)>,
    /// For each output, the regex group names that feed it (a name used twice collects every
    /// match).
    groups: Vec<Vec<String>>,
}

impl PartialEq for Grok {
    fn eq(&self, other: &Self) -> bool {
        self.regex.as_str() == other.regex.as_str()
    }
}

impl Grok {
    /// Compiles a grok pattern.
    ///
    /// # Errors
    /// An unknown pattern name or an invalid regular expression.
    pub fn new(pattern: &str) -> Result<Grok, String> {
        let mut outputs: Vec<(String, EsType)> = Vec::new();
        let mut groups: Vec<Vec<String>> = Vec::new();
        let mut counter = 0usize;
        let expanded = expand(pattern, &mut outputs, &mut groups, &mut counter, 0)?;
        let regex = Regex::new(&expanded).map_err(|e| format!("Invalid GROK pattern [{pattern}]: {e}"))?;
        Ok(Grok { regex, outputs, groups })
    }

    /// The output fields and their types, in pattern order.
    pub fn outputs(&self) -> &[(String, EsType)] {
        &self.outputs
    }

    /// Matches the first occurrence in `input`; per output, the captured texts (several when a
    /// name repeats).
    pub fn apply(&self, input: &str) -> Option<Vec<Vec<String>>> {
        let caps = self.regex.captures(input)?;
        Some(
            self.groups
                .iter()
                .map(|gs| gs.iter().filter_map(|g| caps.name(g).map(|m| m.as_str().to_string())).collect())
                .collect(),
        )
    }
}

fn expand(
    pattern: &str,
    outputs: &mut Vec<(String, EsType)>,
    groups: &mut Vec<Vec<String>>,
    counter: &mut usize,
    depth: usize,
) -> Result<String, String> {
    if depth > 20 {
        return Err(format!("GROK pattern [{pattern}] is recursive"));
    }
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("%{") {
        out.push_str(&named_groups(&rest[..start], outputs, groups, counter));
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| format!("Invalid GROK pattern [{pattern}]: missing [}}]"))?;
        let spec = &after[..end];
        let mut it = spec.splitn(3, ':');
        let syntax = it.next().unwrap_or("");
        let name = it.next();
        let ty = it.next();
        let (_, body) = PATTERNS
            .iter()
            .find(|(n, _)| *n == syntax)
            .ok_or_else(|| format!("Unable to find pattern [{syntax}] in Grok's pattern dictionary"))?;
        let inner = expand(body, &mut Vec::new(), &mut Vec::new(), &mut 0, depth + 1)?;
        match name {
            Some(name) => {
                let es_type = match ty {
                    None => EsType::Keyword,
                    Some("int") => EsType::Integer,
                    Some("long") => EsType::Long,
                    Some("float") | Some("double") => EsType::Double,
                    Some("boolean") => EsType::Boolean,
                    Some(other) => return Err(format!("Unsupported GROK type [{other}]")),
                };
                let g = format!("g{}", *counter);
                *counter += 1;
                match outputs.iter().position(|(n, _)| n == name) {
                    Some(i) => groups[i].push(g.clone()),
                    None => {
                        outputs.push((name.to_string(), es_type));
                        groups.push(vec![g.clone()]);
                    }
                }
                out.push_str(&format!("(?P<{g}>{inner})"));
            }
            None => out.push_str(&format!("(?:{inner})")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(&named_groups(rest, outputs, groups, counter));
    Ok(out)
}

/// Rewrites raw `(?<name>...)` groups of a literal regex part into numbered output groups.
fn named_groups(
    part: &str,
    outputs: &mut Vec<(String, EsType)>,
    groups: &mut Vec<Vec<String>>,
    counter: &mut usize,
) -> String {
    let mut out = String::new();
    let mut rest = part;
    while let Some(pos) = rest.find("(?<").filter(|p| !rest[p + 3..].starts_with(['=', '!'])) {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 3..];
        let Some(end) = after.find('>') else {
            out.push_str(&rest[pos..]);
            return out;
        };
        let name = &after[..end];
        let g = format!("g{}", *counter);
        *counter += 1;
        match outputs.iter().position(|(n, _)| n == name) {
            Some(i) => groups[i].push(g.clone()),
            None => {
                outputs.push((name.to_string(), EsType::Keyword));
                groups.push(vec![g.clone()]);
            }
        }
        out.push_str(&format!("(?P<{g}>"));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_numbers() {
        let g = Grok::new("%{WORD:a} %{NUMBER:n:int}").unwrap();
        assert_eq!(g.outputs(), &[("a".to_string(), EsType::Keyword), ("n".to_string(), EsType::Integer)]);
        assert_eq!(g.apply("x hello 42 y"), Some(vec![vec!["hello".to_string()], vec!["42".to_string()]]));
        assert_eq!(g.apply("nothing"), None);
    }

    #[test]
    fn ips_and_raw_groups() {
        let g = Grok::new(r"%{IP:ip} (?<rest>.*)").unwrap();
        assert_eq!(g.apply("10.1.2.3 foo"), Some(vec![vec!["10.1.2.3".to_string()], vec!["foo".to_string()]]));
    }

    #[test]
    fn unknown_pattern() {
        assert!(Grok::new("%{NOPE:x}").unwrap_err().contains("NOPE"));
    }
}
