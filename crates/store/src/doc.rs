//! Documents as the store ingests them: parsed from their JSON source straight into dotted leaf
//! fields, with no JSON tree in between, and field names interned once per batch ([`Names`]), so
//! that checking and columnar building work on small integers instead of strings.
//!
//! Flattening follows Elasticsearch: objects become dotted names (`{"source":{"ip":…}}` and
//! `{"source.ip":…}` are the same field), arrays become several values of their field (arrays of
//! arrays too), `null` is no value. A field the table maps to `geo_point` or to a type ES|QL cannot
//! read (`flattened`) keeps its whole value, objects included, as one leaf; so does a geo_point's
//! `[lon, lat]` array.

use crate::input::Source;
use esql::functions::string::json_extract::json_escape;
use serde::Deserialize as _;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};
use std::fmt;

/// A field name's number within one batch ([`Names`]).
pub(crate) type FieldId = u32;

/// What is known of a field name whatever the index: its entry in the field table, and how its
/// JSON values are read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts {
    /// The field table's mapping type (ECS, the integrations, the alerts index), if any.
    pub table: Option<&'static str>,
    /// Whole values, objects included, are one leaf (`geo_point`, `flattened`, …).
    pub opaque: bool,
    /// Mapped to `geo_point` by the table: an array starting with a number is one point.
    pub geo_point: bool,
}

impl Facts {
    fn of(name: &str) -> Facts {
        let table = ecs::field_type(name);
        let geo_point = table == Some("geo_point");
        let opaque = geo_point || table.is_some_and(|m| esql::types::EsType::from_mapping(m).is_none());
        Facts { table, opaque, geo_point }
    }
}

/// Fields every document is asked for: `@timestamp` and the `data_stream.*` that name its index.
pub(crate) const TIMESTAMP: usize = 0;
pub(crate) const DATA_STREAM_TYPE: usize = 1;
pub(crate) const DATA_STREAM_DATASET: usize = 2;
pub(crate) const DATA_STREAM_NAMESPACE: usize = 3;
const ASKED: [&str; 4] = ["@timestamp", "data_stream.type", "data_stream.dataset", "data_stream.namespace"];

/// The field names met in a batch of documents, numbered in the order they were first met.
#[derive(Debug, Default)]
pub(crate) struct Names {
    ids: foldhash::HashMap<Box<str>, FieldId>,
    /// The keys met under each name (and under the document itself), so that a key
    /// is found by comparing it with the few keys of its object rather than by hashing its
    /// whole dotted name.
    children: Vec<Vec<(Box<str>, FieldId)>>,
    root: Vec<(Box<str>, FieldId)>,
    /// The numbers of the [`ASKED`] fields, once met.
    asked: [Option<FieldId>; 4],
    names: Vec<Box<str>>,
    facts: Vec<Facts>,
    /// Per name, why a document may not hold it (a metadata field, an empty part).
    refusals: Vec<Option<String>>,
}

/// Fields Elasticsearch reserves for metadata: a document may not hold them.
const METADATA_FIELDS: [&str; 11] = [
    "_id",
    "_index",
    "_routing",
    "_source",
    "_ignored",
    "_version",
    "_seq_no",
    "_primary_term",
    "_field_names",
    "_tier",
    "_data_stream_timestamp",
];

impl Names {
    /// The number of `name`, given one when it is new.
    pub fn intern(&mut self, name: &str) -> FieldId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = FieldId::try_from(self.names.len()).expect("invariant: fewer than 2^32 field names in a batch");
        self.ids.insert(name.into(), id);
        self.names.push(name.into());
        self.children.push(Vec::new());
        self.facts.push(Facts::of(name));
        self.refusals.push(refusal(name));
        if let Some(i) = ASKED.iter().position(|a| *a == name) {
            self.asked[i] = Some(id);
        }
        id
    }

    /// The number of the member `key` of the object named `parent` (`None`: of the document).
    /// `hint` is where the key is expected among its object's keys (documents of a batch mostly
    /// share their keys' order); it is moved past the key found.
    fn child(&mut self, parent: Option<FieldId>, key: &str, hint: &mut usize) -> FieldId {
        /// Objects with more keys are looked up by their whole dotted name.
        const SCANNED: usize = 32;
        let keys = match parent {
            Some(p) => &self.children[p as usize],
            None => &self.root,
        };
        if let Some((k, id)) = keys.get(*hint)
            && same(k, key)
        {
            *hint += 1;
            return *id;
        }
        if let Some(at) = keys.iter().position(|(k, _)| same(k, key)) {
            *hint = at + 1;
            return keys[at].1;
        }
        let id = match parent {
            Some(p) => {
                let name = format!("{}.{key}", self.names[p as usize]);
                self.intern(&name)
            }
            None => self.intern(key),
        };
        let keys = match parent {
            Some(p) => &mut self.children[p as usize],
            None => &mut self.root,
        };
        if keys.len() < SCANNED {
            keys.push((key.into(), id));
            *hint = keys.len();
        }
        id
    }

    /// The number of one of the fields every document is asked for ([`TIMESTAMP`], …), if met.
    pub fn asked(&self, which: usize) -> Option<FieldId> {
        self.asked[which]
    }

    /// The number of `name` if a document of the batch has it (as a leaf or an object).
    pub fn get(&self, name: &str) -> Option<FieldId> {
        self.ids.get(name).copied()
    }

    /// The name numbered `id`.
    pub fn name(&self, id: FieldId) -> &str {
        &self.names[id as usize]
    }

    /// What is known of the name numbered `id`.
    pub fn facts(&self, id: FieldId) -> Facts {
        self.facts[id as usize]
    }

    /// How many names there are; ids are `0..len`.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Why a document may not hold a leaf named as `id` is, if it may not.
    pub fn refusal(&self, id: FieldId) -> Option<&str> {
        self.refusals[id as usize].as_deref()
    }
}

/// String equality for the short keys of JSON objects: a plain loop, cheaper than a call to
/// `memcmp` for a handful of bytes.
#[inline]
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Why a document may not hold a leaf named `name`, as Elasticsearch words it.
fn refusal(name: &str) -> Option<String> {
    let first = name.split('.').next().unwrap_or(name);
    if METADATA_FIELDS.contains(&first) {
        return Some(format!(
            "Field [{first}] is a metadata field and cannot be added inside a document. Use the index API request parameters."
        ));
    }
    if name.split('.').any(|part| part.trim().is_empty()) {
        return Some(format!(
            "field name [{name}] cannot contain only whitespace, or start or end with a [.], or contain [..]"
        ));
    }
    None
}

/// One leaf value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Leaf {
    /// A string without escapes: `start..end` of the document's source, where it was read.
    Raw(u32, u32),
    /// A string unescaped: `start..end` of the document's own text.
    Str(u32, u32),
    /// A negative integer.
    Int(i64),
    /// A non-negative integer.
    UInt(u64),
    /// A number with a fraction or an exponent.
    Float(f64),
    Bool(bool),
    /// A whole value kept as one (see the module documentation).
    Json(Box<Value>),
}

/// One document's leaves, grouped by field (in the order fields were first met in the batch),
/// each field's values in document order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Doc {
    leaves: Vec<(FieldId, Leaf)>,
    /// Strings that had escapes, unescaped.
    text: String,
    /// The source the document was read from, when a [`Leaf::Raw`] refers to it: valid UTF-8
    /// (checked by [`parse`]), and each `Raw` range lies between ASCII quotes of it.
    source: Source,
}

impl Doc {
    /// Every field with its values.
    pub fn fields(&self) -> Fields<'_> {
        Fields { leaves: &self.leaves }
    }

    /// The values of field `id`, if met (empty when the document lacks it).
    pub fn get_asked(&self, id: Option<FieldId>) -> Values<'_> {
        match id {
            Some(id) => self.get(id),
            None => Values { leaves: &[] },
        }
    }

    /// The values of field `id` (empty when the document lacks it).
    pub fn get(&self, id: FieldId) -> Values<'_> {
        let start = self.leaves.partition_point(|(f, _)| *f < id);
        let len = self.leaves[start..].iter().take_while(|(f, _)| *f == id).count();
        Values { leaves: &self.leaves[start..start + len] }
    }

    /// The values of the field `name`.
    #[cfg(test)]
    pub fn get_named(&self, names: &Names, name: &str) -> Values<'_> {
        match names.get(name) {
            Some(id) => self.get(id),
            None => Values { leaves: &[] },
        }
    }

    /// True when the document has a value for field `id`.
    pub fn has(&self, id: FieldId) -> bool {
        !self.get(id).is_empty()
    }

    /// The text of a string leaf.
    pub fn str(&self, leaf: &Leaf) -> Option<&str> {
        match *leaf {
            Leaf::Raw(start, end) => {
                let bytes = &self.source[start as usize..end as usize];
                debug_assert!(std::str::from_utf8(bytes).is_ok());
                // SAFETY: `parse` checked that the whole source is UTF-8, and a `Raw` range starts
                // and ends next to ASCII quotes, so on character boundaries (see `Doc::source`).
                Some(unsafe { std::str::from_utf8_unchecked(bytes) })
            }
            Leaf::Str(start, end) => Some(&self.text[start as usize..end as usize]),
            _ => None,
        }
    }

    /// The length of a string leaf's text (0 for other leaves).
    pub fn text_len(&self, leaf: &Leaf) -> usize {
        match *leaf {
            Leaf::Raw(start, end) | Leaf::Str(start, end) => (end - start) as usize,
            _ => 0,
        }
    }

    /// A leaf's text as a keyword holds it: a string as it is, a number or boolean as JSON
    /// writes it; `None` for an object or array.
    pub fn text_of<'a>(&'a self, leaf: &Leaf, scratch: &'a mut String) -> Option<&'a str> {
        use std::fmt::Write;
        scratch.clear();
        match leaf {
            Leaf::Raw(..) | Leaf::Str(..) => return self.str(leaf),
            Leaf::Int(i) => write!(scratch, "{i}").ok()?,
            Leaf::UInt(u) => write!(scratch, "{u}").ok()?,
            Leaf::Float(f) => write!(scratch, "{}", Number::from_f64(*f)?).ok()?,
            Leaf::Bool(b) => scratch.push_str(if *b { "true" } else { "false" }),
            Leaf::Json(_) => return None,
        }
        Some(scratch)
    }

    /// A leaf as a JSON value.
    pub fn value(&self, leaf: &Leaf) -> Value {
        match leaf {
            Leaf::Raw(..) | Leaf::Str(..) => Value::String(self.str(leaf).unwrap_or_default().to_string()),
            Leaf::Int(i) => Value::from(*i),
            Leaf::UInt(u) => Value::from(*u),
            Leaf::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Leaf::Bool(b) => Value::Bool(*b),
            Leaf::Json(v) => (**v).clone(),
        }
    }
}

/// The fields of a [`Doc`], each with its values.
pub(crate) struct Fields<'a> {
    leaves: &'a [(FieldId, Leaf)],
}

impl<'a> Iterator for Fields<'a> {
    type Item = (FieldId, Values<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let (id, _) = self.leaves.first()?;
        let len = self.leaves.iter().take_while(|(f, _)| f == id).count();
        let (run, rest) = self.leaves.split_at(len);
        self.leaves = rest;
        Some((*id, Values { leaves: run }))
    }
}

/// One field's values in a [`Doc`].
#[derive(Clone, Copy)]
pub(crate) struct Values<'a> {
    leaves: &'a [(FieldId, Leaf)],
}

impl<'a> Values<'a> {
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    pub fn first(&self) -> Option<&'a Leaf> {
        self.leaves.first().map(|(_, l)| l)
    }

    pub fn iter(self) -> impl Iterator<Item = &'a Leaf> + 'a {
        self.leaves.iter().map(|(_, l)| l)
    }
}

/// Duplicate keys in one object: refused, as Elasticsearch does, or (for documents already
/// accepted, replayed from the log) kept as several values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Duplicates {
    Refuse,
    Keep,
}

/// Parses one document's source into its leaves, naming fields in `names`.
///
/// # Errors
/// The parser's message (with its line and column) when the source is not JSON, is not an
/// object, has an empty key or a key twice in one object (with [`Duplicates::Refuse`]).
pub(crate) fn parse(source: &Source, names: &mut Names, duplicates: Duplicates) -> Result<Doc, serde_json::Error> {
    // one validation of the whole source, rather than one per string
    let text = std::str::from_utf8(source)
        .map_err(|e| <serde_json::Error as de::Error>::custom(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    if let Some(mut doc) = Fast::parse(source, text, names, duplicates) {
        doc.leaves.sort_by_key(|(id, _)| *id);
        return Ok(doc);
    }
    parse_with_serde(text, names, duplicates)
}

/// [`parse`] by `serde_json`: every document the fast reader leaves (and the errors).
fn parse_with_serde(text: &str, names: &mut Names, duplicates: Duplicates) -> Result<Doc, serde_json::Error> {
    let mut doc =
        Doc { leaves: Vec::with_capacity(64), text: String::with_capacity(text.len() / 2), source: Source::default() };
    let mut ctx = Ctx { names, doc: &mut doc, duplicates };
    let mut de = serde_json::Deserializer::from_str(text);
    Top { ctx: &mut ctx }.deserialize(&mut de)?;
    de.end()?;
    // group by field, keeping document order within each (a stable sort)
    doc.leaves.sort_by_key(|(id, _)| *id);
    Ok(doc)
}

/// A reader for the documents logs are made of: objects, arrays, strings, integers, booleans
/// and nulls. It gives up (`None`) on anything else (a fraction or exponent, a field kept whole,
/// a duplicate key, invalid JSON, deep nesting), and [`parse_with_serde`] reads the document
/// instead; so it never decides anything `serde_json` would decide otherwise.
struct Fast<'s, 'n> {
    /// The document, and its bytes.
    t: &'s str,
    s: &'s [u8],
    i: usize,
    names: &'n mut Names,
    doc: Doc,
    duplicates: Duplicates,
}

/// Deeper documents are left to `serde_json` (which refuses beyond 128 levels).
const FAST_DEPTH: usize = 64;

impl<'s, 'n> Fast<'s, 'n> {
    /// Reads `text`, which is `source` found valid UTF-8; the strings without escapes stay in
    /// `source`, where they were read.
    fn parse(source: &Source, text: &'s str, names: &'n mut Names, duplicates: Duplicates) -> Option<Doc> {
        debug_assert_eq!(text.as_bytes(), &source[..]);
        let doc = Doc { leaves: Vec::with_capacity(64), text: String::new(), source: source.clone() };
        let mut fast = Fast { t: text, s: text.as_bytes(), i: 0, names, doc, duplicates };
        fast.ws();
        if fast.peek()? != b'{' {
            return None;
        }
        fast.object(None, 0)?;
        fast.ws();
        (fast.i == fast.s.len()).then_some(fast.doc)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.ws();
        (self.peek()? == byte).then(|| self.i += 1)
    }

    /// The object starting at `self.i`, named `parent`.
    fn object(&mut self, parent: Option<FieldId>, depth: usize) -> Option<()> {
        self.i += 1;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        let mut seen = Seen::default();
        let mut hint = 0;
        let mut escaped = String::new();
        loop {
            self.eat(b'"')?;
            let text = self.t;
            let key: &str = match plain(&self.s[self.i..]) {
                Some(len) => {
                    // between ASCII quotes: on character boundaries of the valid text
                    let key = text.get(self.i..self.i + len)?;
                    self.i += len + 1;
                    key
                }
                None => {
                    // a key with escapes goes through the text buffer to be unescaped
                    let start = self.doc.text.len();
                    self.string()?;
                    escaped.clear();
                    escaped.push_str(&self.doc.text[start..]);
                    self.doc.text.truncate(start);
                    &escaped
                }
            };
            if key.is_empty() {
                return None;
            }
            let id = self.names.child(parent, key, &mut hint);
            if self.duplicates == Duplicates::Refuse && !seen.insert(id) {
                return None;
            }
            self.eat(b':')?;
            self.ws();
            self.value(id, depth)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
            self.ws();
        }
    }

    /// The value at `self.i`, of the field `id`.
    fn value(&mut self, id: FieldId, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.i += 1;
                if let Some(len) = plain(&self.s[self.i..]) {
                    self.doc.leaves.push((id, Leaf::Raw(offset(self.i), offset(self.i + len))));
                    self.i += len + 1;
                } else {
                    let start = self.doc.text.len();
                    self.string()?;
                    let end = self.doc.text.len();
                    self.doc.leaves.push((id, Leaf::Str(offset(start), offset(end))));
                }
            }
            b'{' => {
                if depth >= FAST_DEPTH || self.names.facts(id).opaque {
                    return None;
                }
                self.object(Some(id), depth + 1)?;
            }
            b'[' => {
                if depth >= FAST_DEPTH || self.names.facts(id).geo_point {
                    return None;
                }
                self.i += 1;
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.ws();
                    self.value(id, depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.word(b"true", Some(Leaf::Bool(true)), id)?,
            b'f' => self.word(b"false", Some(Leaf::Bool(false)), id)?,
            b'n' => self.word(b"null", None, id)?,
            b'-' | b'0'..=b'9' => self.number(id)?,
            _ => return None,
        }
        Some(())
    }

    fn word(&mut self, word: &[u8], leaf: Option<Leaf>, id: FieldId) -> Option<()> {
        if !self.s[self.i..].starts_with(word) {
            return None;
        }
        self.i += word.len();
        if let Some(leaf) = leaf {
            self.doc.leaves.push((id, leaf));
        }
        Some(())
    }

    /// An integer; `None` for fractions, exponents and integers beyond 64 bits.
    fn number(&mut self, id: FieldId) -> Option<()> {
        let negative = self.peek()? == b'-';
        if negative {
            self.i += 1;
        }
        let start = self.i;
        let mut n: u64 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            self.i += 1;
        }
        let digits = self.i - start;
        if digits == 0 || (digits > 1 && self.s[start] == b'0') {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return None;
        }
        let leaf = if !negative {
            Leaf::UInt(n)
        } else if n == 0 {
            // `-0`: serde_json reads a float
            return None;
        } else if n <= i64::MAX as u64 + 1 {
            Leaf::Int((n as i64).wrapping_neg())
        } else {
            return None;
        };
        self.doc.leaves.push((id, leaf));
        Some(())
    }

    /// The rest of a string (after its opening quote), appended to the text buffer unescaped.
    fn string(&mut self) -> Option<()> {
        loop {
            let rest = &self.s[self.i..];
            let stop = string_stop(rest)?;
            // the stop byte is ASCII: a character boundary of the valid text
            self.doc.text.push_str(self.t.get(self.i..self.i + stop)?);
            self.i += stop + 1;
            match rest[stop] {
                b'"' => return Some(()),
                b'\\' => self.escape()?,
                _ => return None,
            }
        }
    }

    fn escape(&mut self) -> Option<()> {
        let c = self.peek()?;
        self.i += 1;
        let ch = match c {
            b'u' => {
                let high = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&high) {
                    if !self.s[self.i..].starts_with(b"\\u") {
                        return None;
                    }
                    self.i += 2;
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    high
                };
                char::from_u32(code)?
            }
            _ => json_escape(c)?,
        };
        self.doc.text.push(ch);
        Some(())
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.s.get(self.i..self.i + 4)?;
        let mut code = 0;
        for &d in digits {
            code = code * 16 + char::from(d).to_digit(16)?;
        }
        self.i += 4;
        Some(code)
    }
}

/// The length of a string without escapes at the start of `rest` (after its opening quote), up
/// to its closing quote; `None` when it has escapes, control characters or no end.
fn plain(rest: &[u8]) -> Option<usize> {
    let stop = string_stop(rest)?;
    (rest[stop] == b'"').then_some(stop)
}

/// The position of the first byte that ends a run of plain string content: a quote, a backslash
/// or a control character. Eight bytes at a time.
#[inline]
fn string_stop(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    /// High bit set in each byte of `v` that is zero; exact for the lowest such byte, which is
    /// all that is used.
    #[inline]
    fn zero_bytes(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGHS
    }
    let mut at = 0;
    while let Some(word) = bytes.get(at..at + 8) {
        let v = u64::from_le_bytes(word.try_into().unwrap_or_default());
        // a byte below 0x20 is one whose value minus 0x20 borrows without having had its high bit
        let found = zero_bytes(v ^ (ONES * u64::from(b'"')))
            | zero_bytes(v ^ (ONES * u64::from(b'\\')))
            | (v.wrapping_sub(ONES * 0x20) & !v & HIGHS);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..].iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).map(|i| at + i)
}

/// The keys of one object met so far, to find duplicates: on the stack for the usual small
/// objects.
#[derive(Default)]
struct Seen {
    first: [FieldId; 24],
    count: usize,
    more: Vec<FieldId>,
    /// The largest key number met so far.
    top: Option<FieldId>,
}

impl Seen {
    /// False when `id` was met already.
    fn insert(&mut self, id: FieldId) -> bool {
        // Keys mostly come in the order the batch first met them, so in increasing numbers: a
        // key above every one met so far is new without a search.
        if self.top.is_some_and(|top| id <= top) && (self.first[..self.count].contains(&id) || self.more.contains(&id))
        {
            return false;
        }
        self.top = self.top.max(Some(id));
        if self.count < self.first.len() {
            self.first[self.count] = id;
            self.count += 1;
        } else {
            self.more.push(id);
        }
        true
    }
}

struct Ctx<'a> {
    names: &'a mut Names,
    doc: &'a mut Doc,
    duplicates: Duplicates,
}

impl Ctx<'_> {
    fn push(&mut self, id: FieldId, leaf: Leaf) {
        self.doc.leaves.push((id, leaf));
    }

    fn push_str(&mut self, id: FieldId, s: &str) {
        let start = self.doc.text.len();
        self.doc.text.push_str(s);
        let (start, end) = (offset(start), offset(self.doc.text.len()));
        self.push(id, Leaf::Str(start, end));
    }

    /// The members of the object named `parent` (`None`: the document), read one by one.
    fn object<'de, A: MapAccess<'de>>(&mut self, parent: Option<FieldId>, mut map: A) -> Result<(), A::Error> {
        // the keys met so far, for duplicates: on the stack for the usual small objects
        let mut seen = Seen::default();
        let mut hint = 0;
        while let Some(id) = map.next_key_seed(Key { names: self.names, parent, hint: &mut hint })? {
            if self.duplicates == Duplicates::Refuse && !seen.insert(id) {
                let name = self.names.name(id);
                let key = match parent {
                    Some(p) => &name[self.names.name(p).len() + 1..],
                    None => name,
                };
                return Err(de::Error::custom(format!("Duplicate field '{key}'")));
            }
            map.next_value_seed(Member { ctx: self, id })?;
        }
        Ok(())
    }

    /// The items of a geo_point field's array that holds several points, flattened the way a
    /// JSON tree is: a `[lon, lat]` array or an object (geo_point is kept whole) is one value.
    fn tree(&mut self, id: FieldId, value: Value) {
        match value {
            Value::Null => {}
            Value::Array(items)
                if self.names.facts(id).geo_point && matches!(items.first(), Some(Value::Number(_))) =>
            {
                self.push(id, Leaf::Json(Box::new(Value::Array(items))));
            }
            Value::Array(items) => {
                for item in items {
                    self.tree(id, item);
                }
            }
            Value::String(s) => self.push_str(id, &s),
            Value::Number(n) => self.push(id, number_leaf(&n)),
            Value::Bool(b) => self.push(id, Leaf::Bool(b)),
            object => self.push(id, Leaf::Json(Box::new(object))),
        }
    }
}

fn number_leaf(n: &Number) -> Leaf {
    if let Some(u) = n.as_u64() {
        Leaf::UInt(u)
    } else if let Some(i) = n.as_i64() {
        Leaf::Int(i)
    } else {
        Leaf::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

fn offset(n: usize) -> u32 {
    u32::try_from(n).expect("invariant: documents are far smaller than 4 GiB")
}

/// The document: an object.
struct Top<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.ctx.object(None, map)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom("expected a JSON object, found null"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom("expected a JSON object, found a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom("expected a JSON object, found a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom("expected a JSON object, found a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom("expected a JSON object, found a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom("expected a JSON object, found a string"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom("expected a JSON object, found an array"))
    }
}

/// An object's key, as the number of its dotted name.
struct Key<'n, 'h> {
    names: &'n mut Names,
    parent: Option<FieldId>,
    hint: &'h mut usize,
}

impl<'de> DeserializeSeed<'de> for Key<'_, '_> {
    type Value = FieldId;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<FieldId, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_> {
    type Value = FieldId;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<FieldId, E> {
        if key.is_empty() {
            return Err(E::custom("field name cannot be an empty string"));
        }
        Ok(self.names.child(self.parent, key, self.hint))
    }
}

/// The value of an object member or array item named `id`.
struct Member<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    id: FieldId,
}

impl<'de> DeserializeSeed<'de> for Member<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Member<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<(), E> {
        self.ctx.push(self.id, Leaf::Bool(b));
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<(), E> {
        self.ctx.push(self.id, if i >= 0 { Leaf::UInt(i as u64) } else { Leaf::Int(i) });
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<(), E> {
        self.ctx.push(self.id, Leaf::UInt(u));
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<(), E> {
        self.ctx.push(self.id, Leaf::Float(f));
        Ok(())
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.ctx.push_str(self.id, s);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        if self.ctx.names.facts(self.id).opaque {
            let value = Value::deserialize(MapAccessDeserializer::new(map))?;
            self.ctx.push(self.id, Leaf::Json(Box::new(value)));
            return Ok(());
        }
        self.ctx.object(Some(self.id), map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.ctx.names.facts(self.id).geo_point {
            let value = Value::deserialize(SeqAccessDeserializer::new(seq))?;
            self.ctx.tree(self.id, value);
            return Ok(());
        }
        while seq.next_element_seed(Member { ctx: self.ctx, id: self.id })?.is_some() {}
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flat(source: &str) -> Vec<(String, Vec<Value>)> {
        let mut names = Names::default();
        let doc = parse(&Source::from(source.as_bytes()), &mut names, Duplicates::Refuse).expect("parse");
        let mut out: Vec<(String, Vec<Value>)> = doc
            .fields()
            .map(|(id, values)| (names.name(id).to_string(), values.iter().map(|l| doc.value(l)).collect()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn error(source: &str) -> String {
        parse(&Source::from(source.as_bytes()), &mut Names::default(), Duplicates::Refuse)
            .expect_err(source)
            .to_string()
    }

    #[test]
    fn flattens_as_the_json_tree_does() {
        let sources = [
            r#"{"a":{"b":1,"c":[true,null,"x",[2.5,-3]]},"a.b":"y","n":null,"e":[],"o":{}}"#,
            r#"{"source":{"geo":{"location":{"lat":1.5,"lon":2}}},"k":"\u00e9\"","big":18446744073709551615}"#,
            r#"{"source":{"geo":{"location":[2,1.5]}},"destination.geo.location":[{"lat":1,"lon":2},[3,4]]}"#,
            r#"{"kibana":{"alert":{"rule":{"parameters":{"x":{"y":1}}}}}}"#,
        ];
        for source in sources {
            let expected: Vec<(String, Vec<Value>)> = ecs::ndjson::flatten(serde_json::from_str(source).expect("json"))
                .expect("flatten")
                .into_iter()
                .collect();
            assert_eq!(flat(source), expected, "{source}");
        }
    }

    #[test]
    fn keys_are_found_whatever_their_order_and_number() {
        let mut names = Names::default();
        let forward: serde_json::Map<String, Value> = (0..40).map(|i| (format!("k{i}"), json!({ "v": i }))).collect();
        let mut sources = vec![Value::Object(forward.clone())];
        sources.push(Value::Object(forward.into_iter().rev().collect()));
        sources.push(json!({"k3": {"v": "x"}, "k3.v": 1, "z": {"k3": 2}}));
        for source in &sources {
            let bytes = serde_json::to_vec(source).expect("json");
            let doc = parse(&Source::from(bytes), &mut names, Duplicates::Refuse).expect("parse");
            let mut got: Vec<(String, Vec<Value>)> = doc
                .fields()
                .map(|(id, values)| (names.name(id).to_string(), values.iter().map(|l| doc.value(l)).collect()))
                .collect();
            got.sort_by(|a, b| a.0.cmp(&b.0));
            let expected: Vec<(String, Vec<Value>)> =
                ecs::ndjson::flatten(source.clone()).expect("flatten").into_iter().collect();
            assert_eq!(got, expected);
        }
        // one number per name, however it was reached
        assert_eq!(names.names.iter().filter(|n| &***n == "k3.v").count(), 1);
    }

    /// Random documents (and random damage to them), read by the fast reader and by serde_json:
    /// whatever the fast reader accepts, serde_json reads the same; what it refuses, it leaves.
    #[test]
    fn the_fast_reader_agrees_with_serde_json() {
        struct Rng(u64);
        impl Rng {
            fn next(&mut self, n: u64) -> u64 {
                self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (self.0 >> 33) % n
            }
        }
        const KEYS: [&str; 10] = ["a", "b", "a.b", "source", "ip", "k\\u00e9y", "x.y.z", "dup", "e\\\"q", "location"];
        const STRINGS: [&str; 12] = [
            "plain",
            "",
            "tab\\there",
            "quote\\\"d",
            "back\\\\slash",
            "\\u00e9t\\u00e9",
            "\\ud83d\\ude00",
            "\\ud83d",
            "ctl\u{1}x",
            "utf8 é ü 🙂",
            "\\/\\b\\f\\n\\r",
            "\\x",
        ];
        const NUMBERS: [&str; 14] = [
            "0",
            "-0",
            "7",
            "-12",
            "01",
            "1.5",
            "-2e3",
            "1E2",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "-",
            "3.",
        ];
        fn value(rng: &mut Rng, depth: u32, out: &mut String) {
            match rng.next(if depth > 3 { 5 } else { 7 }) {
                0 => out.push_str(&format!("\"{}\"", STRINGS[rng.next(12) as usize])),
                1 => out.push_str(NUMBERS[rng.next(14) as usize]),
                2 => out.push_str(["true", "false", "null"][rng.next(3) as usize]),
                3 | 4 => out.push_str(&format!("\"{}\"", STRINGS[rng.next(3) as usize])),
                5 => {
                    out.push('[');
                    for i in 0..rng.next(4) {
                        if i > 0 {
                            out.push(',');
                        }
                        value(rng, depth + 1, out);
                    }
                    out.push(']');
                }
                _ => object(rng, depth + 1, out),
            }
        }
        fn object(rng: &mut Rng, depth: u32, out: &mut String) {
            out.push('{');
            for i in 0..rng.next(5) {
                if i > 0 {
                    out.push_str([",", " , ", ",\n"][rng.next(3) as usize]);
                }
                out.push_str(&format!("\"{}\":", KEYS[rng.next(10) as usize]));
                value(rng, depth, out);
            }
            out.push('}');
        }
        let leaves = |names: &Names, doc: &Doc| -> Vec<(String, Value)> {
            let mut out = Vec::new();
            for (id, values) in doc.fields() {
                out.extend(values.iter().map(|l| (names.name(id).to_string(), doc.value(l))));
            }
            out
        };
        let mut rng = Rng(7);
        let (mut fast_read, mut left) = (0, 0);
        for round in 0..20_000 {
            let mut text = String::new();
            object(&mut rng, 0, &mut text);
            if round % 3 == 0 && !text.is_empty() {
                // damage: cut, or insert a stray byte
                let at = rng.next(text.len() as u64) as usize;
                if text.is_char_boundary(at) {
                    if rng.next(2) == 0 {
                        text.truncate(at);
                    } else {
                        text.insert(at, ['x', ',', '"', '}', ' '][rng.next(5) as usize]);
                    }
                }
            }
            for duplicates in [Duplicates::Refuse, Duplicates::Keep] {
                let mut names = Names::default();
                let fast = Fast::parse(&Source::from(text.as_bytes()), &text, &mut names, duplicates).map(|mut d| {
                    d.leaves.sort_by_key(|(id, _)| *id);
                    d
                });
                let slow = parse_with_serde(&text, &mut names, duplicates);
                match (fast, slow) {
                    (Some(fast), Ok(slow)) => {
                        fast_read += 1;
                        assert_eq!(leaves(&names, &fast), leaves(&names, &slow), "{text}");
                    }
                    (Some(_), Err(e)) => panic!("the fast reader accepted what serde_json refuses ({e}): {text}"),
                    (None, _) => left += 1,
                }
            }
        }
        // both paths were taken
        assert!(fast_read > 10_000 && left > 5_000, "{fast_read} read fast, {left} left");
    }

    #[test]
    fn string_ends_are_found_eight_bytes_at_a_time_as_one_at_a_time() {
        let mut state = 11u64;
        let mut byte = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // mostly letters, sometimes a byte that ends a run or one with the high bit
            match (state >> 33) % 40 {
                0 => b'"',
                1 => b'\\',
                2 => (state >> 40) as u8 % 0x20,
                3 => 0x80 | (state >> 40) as u8,
                4 => 0x20,
                5 => 0x7f,
                _ => b'a' + (state >> 40) as u8 % 26,
            }
        };
        for len in 0..200 {
            for _ in 0..50 {
                let bytes: Vec<u8> = (0..len).map(|_| byte()).collect();
                let naive = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
                assert_eq!(string_stop(&bytes), naive, "{bytes:?}");
            }
        }
    }

    #[test]
    fn leaves_keep_document_order_within_a_field() {
        assert_eq!(
            flat(r#"{"a":{"b":1},"c":2,"a.b":3}"#),
            vec![("a.b".to_string(), vec![json!(1), json!(3)]), ("c".to_string(), vec![json!(2)])]
        );
    }

    #[test]
    fn refuses_what_elasticsearch_refuses() {
        assert!(error("[1]").contains("expected a JSON object, found an array"));
        assert!(error("1").contains("expected a JSON object, found a number"));
        assert!(error(r#"{"a":1,"a":2}"#).contains("Duplicate field 'a'"));
        assert!(error(r#"{"x":{"a":1,"a":2}}"#).contains("Duplicate field 'a'"));
        let many: String = (0..30).map(|i| format!("\"k{i}\":{i},")).collect();
        assert!(error(&format!("{{{many}\"k27\":0}}")).contains("Duplicate field 'k27'"));
        assert!(error(&format!("{{{many}\"k3\":0}}")).contains("Duplicate field 'k3'"));
        assert!(error(r#"{"":1}"#).contains("empty string"));
        assert!(error(r#"{"a":1} x"#).contains("trailing characters"));
        assert!(error(r#"{"a":"#).contains("EOF"));
        // kept, as several values, when replaying what was accepted
        let mut names = Names::default();
        let doc = parse(&Source::from(&br#"{"a":1,"a":2}"#[..]), &mut names, Duplicates::Keep).expect("parse");
        assert_eq!(doc.get_named(&names, "a").iter().count(), 2);
    }

    #[test]
    fn names_know_refusals_and_facts() {
        let mut names = Names::default();
        let id = names.intern("_id");
        assert!(names.refusals[id as usize].as_deref().is_some_and(|r| r.contains("metadata field")));
        let id = names.intern("a. .b");
        assert!(names.refusals[id as usize].is_some());
        let id = names.intern("source.geo.location");
        assert!(names.facts(id).geo_point && names.facts(id).opaque);
        assert_eq!(names.intern("source.geo.location"), id);
        assert_eq!(names.len(), 3);
    }
}
