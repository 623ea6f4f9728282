//! `DISSECT` patterns: `%{key}` fields separated by literal delimiters, with Elastic's modifiers
//! (`%{?skip}`, `%{}`, `%{+append}`, `%{+append/2}`, `%{key->}` right padding).

/// One `%{...}` of a dissect pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    /// The output name (empty for `%{}`).
    name: String,
    /// `%{?name}` or `%{}`: matched but not output.
    skip: bool,
    /// `%{+name}`: appended to the earlier value of the same name.
    append: bool,
    /// `%{+name/n}`: position among the appended parts.
    order: Option<u32>,
    /// `%{name->}`: skip repeated delimiters after the value.
    pad: bool,
}

/// A compiled dissect pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dissect {
    prefix: String,
    /// Each key and the literal delimiter that follows it ("" for the last key).
    parts: Vec<(Key, String)>,
    append_separator: String,
    outputs: Vec<String>,
}

impl Dissect {
    /// Compiles a pattern.
    ///
    /// # Errors
    /// A message like Elastic's when the pattern is invalid.
    pub fn new(pattern: &str, append_separator: &str) -> Result<Dissect, String> {
        let mut prefix = String::new();
        let mut parts: Vec<(Key, String)> = Vec::new();
        let mut rest = pattern;
        loop {
            let Some(start) = rest.find("%{") else {
                match parts.last_mut() {
                    Some(last) => last.1.push_str(rest),
                    None => prefix.push_str(rest),
                }
                break;
            };
            match parts.last_mut() {
                Some(last) => last.1.push_str(&rest[..start]),
                None => prefix.push_str(&rest[..start]),
            }
            let after = &rest[start + 2..];
            let end =
                after.find('}').ok_or_else(|| format!("Invalid pattern [{pattern}] for dissect: missing [}}]"))?;
            let key = parse_key(&after[..end]).map_err(|e| format!("Invalid pattern [{pattern}] for dissect: {e}"))?;
            if parts.last().is_some_and(|last| last.1.is_empty()) {
                return Err(format!("Invalid pattern [{pattern}] for dissect: keys must be separated by a delimiter"));
            }
            parts.push((key, String::new()));
            rest = &after[end + 1..];
        }
        if parts.is_empty() {
            return Err(format!("Invalid pattern [{pattern}] for dissect: Unable to find any keys or delimiters."));
        }
        let mut outputs: Vec<String> = Vec::new();
        for (k, _) in &parts {
            if !k.skip && !outputs.contains(&k.name) {
                outputs.push(k.name.clone());
            }
        }
        Ok(Dissect { prefix, parts, append_separator: append_separator.to_string(), outputs })
    }

    /// The output field names, in pattern order.
    pub fn outputs(&self) -> &[String] {
        &self.outputs
    }

    /// Matches `input`; `None` when it does not match. Values are in [`Dissect::outputs`] order.
    pub fn apply(&self, input: &str) -> Option<Vec<String>> {
        let mut pos = input.strip_prefix(self.prefix.as_str()).map(|_| self.prefix.len())?;
        let mut values: Vec<(usize, String)> = Vec::new();
        let mut appended: Vec<(String, u32, usize, String)> = Vec::new();
        for (i, (key, delim)) in self.parts.iter().enumerate() {
            let rest = &input[pos..];
            let (value, next) = if delim.is_empty() {
                (rest, input.len())
            } else {
                let at = rest.find(delim.as_str())?;
                let mut next = pos + at + delim.len();
                if key.pad {
                    while input[next..].starts_with(delim.as_str()) {
                        next += delim.len();
                    }
                }
                (&rest[..at], next)
            };
            // The last key takes the rest only when the pattern ends with it.
            if delim.is_empty() && i + 1 != self.parts.len() {
                return None;
            }
            if !key.skip {
                if key.append {
                    appended.push((key.name.clone(), key.order.unwrap_or(0), i, value.to_string()));
                } else {
                    let idx =
                        self.outputs.iter().position(|o| *o == key.name).expect("invariant: outputs hold every key");
                    values.retain(|(j, _)| *j != idx);
                    values.push((idx, value.to_string()));
                }
            }
            pos = next;
        }
        appended.sort_by_key(|(_, order, i, _)| (*order, *i));
        for (name, _, _, v) in appended {
            let idx = self.outputs.iter().position(|o| *o == name).expect("invariant: outputs hold every key");
            match values.iter_mut().find(|(j, _)| *j == idx) {
                Some((_, existing)) => {
                    existing.push_str(&self.append_separator);
                    existing.push_str(&v);
                }
                None => values.push((idx, v)),
            }
        }
        let mut out = vec![String::new(); self.outputs.len()];
        for (i, v) in values {
            out[i] = v;
        }
        Some(out)
    }
}

fn parse_key(text: &str) -> Result<Key, String> {
    let mut s = text;
    let mut key = Key { name: String::new(), skip: false, append: false, order: None, pad: false };
    if let Some(r) = s.strip_suffix("->") {
        key.pad = true;
        s = r;
    }
    if let Some(r) = s.strip_prefix('?') {
        key.skip = true;
        s = r;
    } else if let Some(r) = s.strip_prefix('+') {
        key.append = true;
        s = r;
        if let Some((name, order)) = s.split_once('/') {
            key.order = Some(order.parse().map_err(|_| format!("invalid append order [{order}]"))?);
            s = name;
        }
    } else if s.starts_with('*') || s.starts_with('&') {
        return Err("reference keys [*] and [&] are not supported".into());
    }
    if s.is_empty() {
        key.skip = true;
    }
    key.name = s.to_string();
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(p: &str, input: &str) -> Option<Vec<String>> {
        Dissect::new(p, "").unwrap().apply(input)
    }

    #[test]
    fn basic() {
        assert_eq!(d("%{a} %{b}", "x y z"), Some(vec!["x".into(), "y z".into()]));
        assert_eq!(d("%{a} %{b} baz", "x y baz"), Some(vec!["x".into(), "y".into()]));
        assert_eq!(d("%{a} %{b}", "xyz"), None);
        assert_eq!(d("Ge%{n}gi", "Georgi"), Some(vec!["or".into()]));
    }

    #[test]
    fn modifiers() {
        assert_eq!(d("%{b->} %{c}", "foo    bar"), Some(vec!["foo".into(), "bar".into()]));
        assert_eq!(d("%{?x} %{b}", "a b"), Some(vec!["b".into()]));
        assert_eq!(d("%{} %{b}", "a b"), Some(vec!["b".into()]));
        let p = Dissect::new("%{+b/3} %{c} %{+b/2} %{d} %{+b/1}", ",").unwrap();
        assert_eq!(p.apply("1 2 3 4 5"), Some(vec!["5,3,1".into(), "2".into(), "4".into()]));
    }
}
