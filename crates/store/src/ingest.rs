//! From input items to accepted documents: parsing and checking each document, deciding the
//! mapping changes of a batch, the write-ahead log payload of a batch, and the per-document
//! results that `_bulk` reports.

use crate::doc::{self, Doc, Duplicates, FieldId, Leaf, Names, Values};
use crate::error::DocumentError;
use crate::index::IndexState;
use crate::input::{Op, RawItem, Source};
use crate::mapping::{FieldMapping, prefixes};
use crate::names::{data_stream_name, validate_index_name};
use crate::segment::TIME_FIELD;
use crate::settings::IndexSettings;
use bytes::Bytes;
use ecs::ndjson::{Shape, coerce_value};
use esql::types::EsType;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The outcome of one input item, as `_bulk` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemResult {
    /// 1-based line of the document's source in the input (of the action line when the item
    /// failed there).
    pub line: usize,
    /// The action.
    pub op: Op,
    /// The index the document went (or would have gone) to.
    pub index: Option<String>,
    /// The document's `_id`: the action's, or the generated one.
    pub id: Option<String>,
    /// The document's `_version` when it was stored, else why it was refused.
    pub result: Result<u64, DocumentError>,
}

impl ItemResult {
    /// The HTTP status `_bulk` gives the item: 201 when created, 200 when it replaced a
    /// document.
    pub fn status(&self) -> u16 {
        match &self.result {
            Ok(1) => 201,
            Ok(_) => 200,
            Err(e) => e.status,
        }
    }

    /// What Elasticsearch's `result` says of a stored document: `created`, or `updated` when
    /// it replaced one (its `_version` is then above 1). `None` when refused.
    pub fn result_name(&self) -> Option<&'static str> {
        match &self.result {
            Ok(1) => Some("created"),
            Ok(_) => Some("updated"),
            Err(_) => None,
        }
    }

    /// The item as one entry of a `_bulk` response's `items`.
    pub fn to_bulk_json(&self) -> Value {
        let mut body = serde_json::Map::new();
        body.insert("_index".into(), json!(self.index));
        body.insert("_id".into(), json!(self.id));
        body.insert("status".into(), json!(self.status()));
        match &self.result {
            Ok(version) => {
                body.insert("_version".into(), json!(version));
                body.insert("result".into(), json!(self.result_name()));
            }
            Err(e) => {
                body.insert("error".into(), json!({"type": e.kind, "reason": e.reason}));
            }
        }
        json!({ self.op.name(): body })
    }
}

/// What one ingest call did, item by item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestReport {
    /// One result per input item, in input order.
    pub items: Vec<ItemResult>,
    /// Bytes of input read (after decompression).
    pub bytes: u64,
}

impl IngestReport {
    /// Documents stored.
    pub fn accepted(&self) -> usize {
        self.items.iter().filter(|i| i.result.is_ok()).count()
    }

    /// Items refused.
    pub fn failed(&self) -> usize {
        self.items.len() - self.accepted()
    }

    /// True when any item failed (`_bulk`'s `errors`).
    pub fn errors(&self) -> bool {
        self.items.iter().any(|i| i.result.is_err())
    }

    /// The report as a `_bulk` response body.
    pub fn to_bulk_json(&self, took_ms: u64) -> Value {
        json!({
            "took": took_ms,
            "errors": self.errors(),
            "items": self.items.iter().map(ItemResult::to_bulk_json).collect::<Vec<_>>(),
        })
    }
}

/// A document that parsed and has a target index, waiting for the batch's checks.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// Its position in the batch's results.
    pub item: usize,
    pub index: String,
    pub op: Op,
    pub id: Option<String>,
    pub source: Source,
    pub doc: Doc,
}

/// Parses one item's document (naming its fields in `names`) and decides its index (`valid`:
/// the index names of the batch found valid so far).
pub(crate) fn prepare(
    raw: RawItem,
    default_index: Option<&str>,
    item: usize,
    names: &mut Names,
    valid: &mut Vec<String>,
) -> (ItemResult, Option<Prepared>) {
    let mut result = ItemResult {
        line: raw.line,
        op: raw.op.clone(),
        index: raw.index.clone().or_else(|| default_index.map(str::to_string)),
        id: raw.id.clone(),
        result: Ok(1),
    };
    let source = match raw.source {
        Ok(source) => source,
        Err(e) => {
            result.result = Err(e);
            return (result, None);
        }
    };
    let doc = match parse_document(&source, names, Duplicates::Refuse) {
        Ok(doc) => doc,
        Err(e) => {
            result.result = Err(e);
            return (result, None);
        }
    };
    let index = match &result.index {
        Some(index) => index.clone(),
        None => {
            let first = |which: usize| doc.get_asked(names.asked(which)).first().and_then(|v| doc.str(v));
            data_stream_name(
                first(doc::DATA_STREAM_TYPE),
                first(doc::DATA_STREAM_DATASET),
                first(doc::DATA_STREAM_NAMESPACE),
            )
        }
    };
    if !valid.contains(&index) {
        if let Err(e) = validate_index_name(&index) {
            result.index = Some(index);
            result.result =
                Err(DocumentError { kind: "invalid_index_name_exception", reason: e.to_string(), status: 400 });
            return (result, None);
        }
        valid.push(index.clone());
    }
    result.index = Some(index.clone());
    let prepared = Prepared { item, index, op: raw.op, id: raw.id, source, doc };
    (result, Some(prepared))
}

/// Parses and flattens a document's source, refusing what Elasticsearch refuses whatever the
/// mapping: invalid UTF-8 or JSON, a non-object, empty or dotted-empty field names, metadata
/// fields, a key twice in one object (unless `duplicates` keeps them: documents replayed from
/// the log were accepted before).
pub(crate) fn parse_document(source: &Source, names: &mut Names, duplicates: Duplicates) -> Result<Doc, DocumentError> {
    let doc =
        doc::parse(source, names, duplicates).map_err(|e| DocumentError::parsing(format!("failed to parse: {e}")))?;
    for (id, _) in doc.fields() {
        if let Some(refusal) = names.refusal(id) {
            return Err(DocumentError::parsing(refusal.to_string()));
        }
    }
    Ok(doc)
}

/// What an index says of a field name of the batch, looked up once per batch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Known<'a> {
    /// The index maps the field.
    pub mapped: bool,
    /// The field is a `constant_keyword` (mapped so, or so in the field table).
    pub constant: bool,
    /// The mapped constant's value.
    pub value: Option<&'a str>,
}

/// [`Known`] for every name of the batch.
pub(crate) fn known<'a>(index: &'a IndexState, names: &Names) -> Vec<Known<'a>> {
    (0..names.len())
        .map(|id| {
            let id = id as FieldId;
            let mapped = index.mapping.fields.get(names.name(id));
            let constant = match mapped {
                Some(f) => f.is_constant(),
                None => names.facts(id).table == Some("constant_keyword"),
            };
            let value = mapped.and_then(|f| f.value.as_deref());
            Known { mapped: mapped.is_some(), constant, value }
        })
        .collect()
}

/// What the documents accepted so far in a batch added to an index, for checking the next ones.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// Fields the index does not map yet, held by documents accepted so far.
    leaves: foldhash::HashSet<FieldId>,
    /// Names of the batch that are objects of such fields.
    objects: foldhash::HashSet<FieldId>,
    constants: BTreeMap<String, String>,
    /// The explicit `_id`s accepted so far, with the version each got.
    ids: HashMap<String, u64>,
}

/// Checks one document against its index (and the batch's documents before it): data stream
/// rules, `_id` conflicts, `constant_keyword` values, and fields that would be both a value and
/// an object. Returns the document's `_version`: 1, or the next version of the document an
/// `index` action replaces. With `expected`, the document must exist with that version (the
/// replacement made by an update).
pub(crate) fn check(
    index: &IndexState,
    names: &Names,
    known: &[Known],
    doc: &Prepared,
    pending: &mut Pending,
    expected: Option<u64>,
) -> Result<u64, DocumentError> {
    if index.settings.data_stream {
        if doc.op == Op::Index && doc.id.is_some() {
            return Err(DocumentError::illegal("only write ops with an op_type of create are allowed in data streams"));
        }
        check_timestamp(names, &doc.doc)?;
    }
    let mut version = 1;
    if let Some(id) = &doc.id {
        let current = match pending.ids.get(id) {
            Some(&v) => Some(v),
            None if index.ids.as_ref().is_some_and(|ids| ids.contains(id)) => Some(index.version_of(id)),
            None => None,
        };
        if let Some(expected) = expected
            && current != Some(expected)
        {
            return Err(DocumentError::conflict(match current {
                Some(current) => {
                    format!("[{id}]: version conflict, required version [{expected}], current version [{current}]")
                }
                None => format!("[{id}]: document missing"),
            }));
        }
        if let Some(current) = current {
            if doc.op != Op::Index {
                return Err(DocumentError::conflict(format!(
                    "[{id}]: version conflict, document already exists (current version [{current}])"
                )));
            }
            version = current + 1;
        }
    }
    let mut constants = Vec::new();
    let mut unmapped = false;
    for (id, values) in doc.doc.fields() {
        let field = known[id as usize];
        if field.constant
            && let Some(value) = constant_value(names.name(id), field, pending, &doc.doc, values)?
        {
            constants.push((names.name(id).to_string(), value));
        }
        // A field the index maps already was checked when it was added: its parents are objects.
        if field.mapped {
            continue;
        }
        unmapped = true;
        let name = names.name(id);
        let is_ecs = names.facts(id).table.is_some();
        if !is_ecs && (index.objects.contains(name) || pending.objects.contains(&id)) {
            return Err(DocumentError::parsing(format!(
                "object mapping for [{name}] tried to parse field [{name}] as object, but found a concrete value"
            )));
        }
        // a field of the field table is never refused for the fields above it
        if is_ecs {
            continue;
        }
        for prefix in prefixes(name) {
            let existing = index.mapping.fields.get(prefix).map(|f| f.mapping.clone()).or_else(|| {
                names
                    .get(prefix)
                    .is_some_and(|p| pending.leaves.contains(&p) || doc.doc.has(p))
                    .then(|| "a value".to_string())
            });
            if let Some(existing) = existing {
                return Err(DocumentError::parsing(format!(
                    "Could not dynamically add mapping for field [{name}]. Existing mapping for [{prefix}] must be of type object but found [{existing}]."
                )));
            }
        }
    }
    for (name, value) in constants {
        pending.constants.entry(name).or_insert(value);
    }
    if unmapped {
        for (id, _) in doc.doc.fields() {
            if known[id as usize].mapped || !pending.leaves.insert(id) {
                continue;
            }
            for prefix in prefixes(names.name(id)) {
                if let Some(p) = names.get(prefix) {
                    pending.objects.insert(p);
                }
            }
        }
    }
    if let Some(id) = &doc.id {
        pending.ids.insert(id.clone(), version);
    }
    Ok(version)
}

fn check_timestamp(names: &Names, doc: &Doc) -> Result<(), DocumentError> {
    let values = doc.get_asked(names.asked(doc::TIMESTAMP));
    let mut leaves = values.iter();
    match (leaves.next(), leaves.next()) {
        (None, _) => Err(DocumentError::illegal(format!("data stream timestamp field [{TIME_FIELD}] is missing"))),
        (Some(leaf), None) => {
            let valid = match doc.str(leaf) {
                Some(text) => ecs::ndjson::parse_date_nanos(text)
                    .is_some_and(|nanos| i64::try_from(nanos.div_euclid(1_000_000)).is_ok()),
                None => coerce_value(&doc.value(leaf), "date").is_some(),
            };
            if valid {
                Ok(())
            } else {
                Err(DocumentError::parsing(format!(
                    "failed to parse field [{TIME_FIELD}] of type [date] in document. Preview of field's value: '{}'",
                    preview(&doc.value(leaf))
                )))
            }
        }
        (Some(_), Some(_)) => Err(DocumentError::illegal(format!(
            "data stream timestamp field [{TIME_FIELD}] encountered multiple values"
        ))),
    }
}

fn preview(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.chars().take(64).collect()
}

/// For a `constant_keyword` field: the document's value when the index has none yet (checked
/// against the batch's), `None` when it equals the index's.
fn constant_value(
    name: &str,
    field: Known,
    pending: &Pending,
    doc: &Doc,
    values: Values,
) -> Result<Option<String>, DocumentError> {
    let expected: Option<&str> = field.value.or_else(|| pending.constants.get(name).map(String::as_str));
    let mut value: Option<String> = None;
    let mut scratch = String::new();
    for leaf in values.iter() {
        let Some(text) = doc.text_of(leaf, &mut scratch) else {
            return Err(DocumentError::parsing(format!("failed to parse field [{name}] of type [constant_keyword]")));
        };
        match expected.or(value.as_deref()) {
            Some(existing) if existing != text => {
                return Err(DocumentError::parsing(format!(
                    "[constant_keyword] field [{name}] only accepts values that are equal to the value defined in the mappings [{existing}], but got [{text}]"
                )));
            }
            Some(_) => {}
            None => value = Some(text.to_string()),
        }
    }
    Ok(value.filter(|_| expected.is_none()))
}

/// The mapping changes a batch of accepted documents makes: every field the index does not have
/// yet, typed over the batch ([`mapping_of`]), up to `max_fields` fields in all (fields beyond it
/// are dropped into `_ignored`, as Elasticsearch's `ignore_dynamic_beyond_limit` does), and the
/// values of new constants.
pub(crate) fn mapping_changes(
    names: &Names,
    known: &[Known],
    docs: &[Prepared],
    pending: &Pending,
    mapped: usize,
    max_fields: usize,
) -> Vec<(String, FieldMapping)> {
    let mut changes = Vec::new();
    for (name, value) in &pending.constants {
        changes.push((name.clone(), FieldMapping::constant(value.clone())));
    }
    let mut new: BTreeSet<(&str, FieldId)> = BTreeSet::new();
    if !pending.leaves.is_empty() {
        // the unmapped fields of the documents accepted (not of those a later one superseded)
        let mut present = vec![false; names.len()];
        for doc in docs {
            for (id, _) in doc.doc.fields() {
                present[id as usize] = true;
            }
        }
        new = pending
            .leaves
            .iter()
            .filter(|&&id| present[id as usize] && !known[id as usize].mapped)
            .map(|&id| (names.name(id), id))
            .filter(|(name, _)| !pending.constants.contains_key(*name))
            .collect();
    }
    let mut count = mapped + changes.len();
    for (name, id) in new {
        if count >= max_fields {
            break;
        }
        let mapping = mapping_of(names, id, docs);
        if mapping == "constant_keyword" {
            // a constant without a value (only non-string values were given) stays unmapped
            continue;
        }
        changes.push((name.to_string(), FieldMapping::new(mapping)));
        count += 1;
    }
    changes
}

/// The Elasticsearch mapping type a field gets when it is first seen in `docs`: the field table's
/// type when it has one (`ip`, `flattened`, …), else one inferred from the shape of its JSON
/// values (`keyword`, `long`, `double`, `boolean`; `keyword` for a mix or for objects).
fn mapping_of(names: &Names, id: FieldId, docs: &[Prepared]) -> &'static str {
    if let Some(mapping) = names.facts(id).table {
        return mapping;
    }
    let shapes = docs.iter().flat_map(|doc| doc.doc.get(id).iter()).map(|leaf| match leaf {
        Leaf::Raw(..) | Leaf::Str(..) => Shape::String,
        Leaf::Bool(_) => Shape::Bool,
        Leaf::Int(_) => Shape::Integer,
        Leaf::UInt(u) if i64::try_from(*u).is_ok() => Shape::Integer,
        Leaf::UInt(_) | Leaf::Float(_) => Shape::Float,
        Leaf::Json(_) => Shape::Composite,
    });
    // a mix of kinds, or a composite value, is the keyword of its JSON text
    ecs::ndjson::inferred_type(shapes).unwrap_or(EsType::Keyword).name()
}

/// A generated document id: 20 URL-safe base64 characters of the log sequence number, the
/// document's position in its record and the store's nonce; unique for the life of the store
/// and the same when the log is replayed.
pub(crate) fn generated_id(seq: u64, ordinal: u32, nonce: [u8; 3]) -> String {
    let mut bytes = [0u8; 15];
    bytes[..8].copy_from_slice(&seq.to_be_bytes());
    bytes[8..12].copy_from_slice(&ordinal.to_be_bytes());
    bytes[12..].copy_from_slice(&nonce);
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(20);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
        for shift in [18, 12, 6, 0] {
            out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
        }
    }
    out
}

/// One index's part of a log record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecordEntry {
    pub index: String,
    pub changes: Vec<(String, FieldMapping)>,
    /// Each document's explicit `_id` (generated ones are derived again) and source.
    pub docs: Vec<(Option<String>, Source)>,
    /// The index's settings from this record on: given when the record creates the index (from
    /// its template) and when they change.
    pub settings: Option<IndexSettings>,
    /// The documents this record replaces (`index` actions whose `_id` existed), each with its
    /// new `_version`: their older rows are gone once the record is applied.
    pub replaces: Vec<(String, u64)>,
}

/// The first eight bytes of a record payload in the second format (entries carry settings). A
/// first-format payload starts with its entry count, which is never this.
const FORMAT_2: u64 = u64::MAX;

/// The first eight bytes of a record payload in the third format (entries carry settings and
/// the documents they replace).
const FORMAT_3: u64 = u64::MAX - 1;

/// The first eight bytes of a record payload in the fourth format: the documents' sources
/// follow the entries as one blob of the input they were read from, each document giving where
/// its source lies in it.
const FORMAT_4: u64 = u64::MAX - 2;

/// Encodes a log record's payload, as parts to be written one after the other: the entries,
/// then the documents' sources as runs of the input blocks they lie in (not copied: a run
/// covers the documents of a block and whatever lies between them, such as newlines, action
/// lines and refused documents).
pub(crate) fn encode_record<'a>(entries: impl ExactSizeIterator<Item = &'a RecordEntry> + Clone) -> Vec<Bytes> {
    fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
        out.extend_from_slice(b);
    }
    /// A run: its block, the range of the block it covers, its offset in the blob.
    struct Run<'b> {
        block: &'b Bytes,
        start: usize,
        end: usize,
        at: usize,
    }
    let mut runs: Vec<Run> = Vec::new();
    // runs by the address of their block: the documents of a block are mostly consecutive,
    // so the last run is tried first
    let mut by_block: HashMap<usize, usize> = HashMap::new();
    let run_of = |runs: &[Run], by_block: &HashMap<usize, usize>, block: &Bytes| -> Option<usize> {
        match runs.last() {
            Some(last) if last.block.as_ptr() == block.as_ptr() => Some(runs.len() - 1),
            _ => by_block.get(&(block.as_ptr() as usize)).copied(),
        }
    };
    for (_, source) in entries.clone().flat_map(|e| &e.docs) {
        let range = source.range();
        match run_of(&runs, &by_block, source.block()) {
            Some(r) => {
                runs[r].start = runs[r].start.min(range.start);
                runs[r].end = runs[r].end.max(range.end);
            }
            None => {
                by_block.insert(source.block().as_ptr() as usize, runs.len());
                runs.push(Run { block: source.block(), start: range.start, end: range.end, at: 0 });
            }
        }
    }
    let mut blob = 0;
    for run in &mut runs {
        run.at = blob;
        blob += run.end - run.start;
    }
    let docs = entries.clone().map(|e| e.docs.len()).sum::<usize>();
    let mut out = Vec::with_capacity(docs * 20 + 4096);
    out.extend_from_slice(&FORMAT_4.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for entry in entries {
        put_bytes(&mut out, entry.index.as_bytes());
        out.extend_from_slice(&(entry.changes.len() as u64).to_le_bytes());
        for (name, field) in &entry.changes {
            put_bytes(&mut out, name.as_bytes());
            put_bytes(&mut out, field.mapping.as_bytes());
            match &field.value {
                Some(v) => {
                    out.push(1);
                    put_bytes(&mut out, v.as_bytes());
                }
                None => out.push(0),
            }
        }
        out.extend_from_slice(&(entry.docs.len() as u64).to_le_bytes());
        for (id, source) in &entry.docs {
            match id {
                Some(id) => {
                    out.push(1);
                    put_bytes(&mut out, id.as_bytes());
                }
                None => out.push(0),
            }
            let run = &runs[run_of(&runs, &by_block, source.block()).expect("invariant: every block has its run")];
            let range = source.range();
            out.extend_from_slice(&((run.at + range.start - run.start) as u64).to_le_bytes());
            out.extend_from_slice(&(range.len() as u64).to_le_bytes());
        }
        match &entry.settings {
            Some(settings) => {
                out.push(1);
                // serialising a plain struct of strings, numbers and booleans cannot fail
                put_bytes(&mut out, &serde_json::to_vec(settings).unwrap_or_default());
            }
            None => out.push(0),
        }
        out.extend_from_slice(&(entry.replaces.len() as u64).to_le_bytes());
        for (id, version) in &entry.replaces {
            put_bytes(&mut out, id.as_bytes());
            out.extend_from_slice(&version.to_le_bytes());
        }
    }
    out.extend_from_slice(&(blob as u64).to_le_bytes());
    let mut parts = Vec::with_capacity(runs.len() + 1);
    parts.push(Bytes::from(out));
    parts.extend(runs.iter().map(|run| run.block.slice(run.start..run.end)));
    parts
}

/// Decodes a log record's payload.
///
/// # Errors
/// When the payload is not what [`encode_record`] writes.
pub(crate) fn decode_record(payload: &Bytes) -> Result<Vec<RecordEntry>, String> {
    struct Reader<'a>(&'a [u8]);
    impl<'a> Reader<'a> {
        fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
            if self.0.len() < n {
                return Err(format!("record ends early: {n} bytes wanted, {} left", self.0.len()));
            }
            let (head, rest) = self.0.split_at(n);
            self.0 = rest;
            Ok(head)
        }
        fn u64(&mut self) -> Result<u64, String> {
            let b = self.take(8)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            Ok(u64::from_le_bytes(a))
        }
        fn len(&mut self) -> Result<usize, String> {
            let n = self.u64()?;
            usize::try_from(n).ok().filter(|n| *n <= self.0.len()).ok_or_else(|| format!("bad length {n}"))
        }
        fn count(&mut self) -> Result<usize, String> {
            // each item takes at least one byte
            self.len()
        }
        fn bytes(&mut self) -> Result<&'a [u8], String> {
            let n = self.len()?;
            self.take(n)
        }
        fn string(&mut self) -> Result<String, String> {
            String::from_utf8(self.bytes()?.to_vec()).map_err(|e| e.to_string())
        }
        fn flag(&mut self) -> Result<bool, String> {
            match self.take(1)?[0] {
                0 => Ok(false),
                1 => Ok(true),
                other => Err(format!("bad flag {other}")),
            }
        }
    }
    let mut r = Reader(payload);
    let format = |f: u64| payload.get(..8).is_some_and(|head| head == f.to_le_bytes());
    let format_4 = format(FORMAT_4);
    let format_3 = format_4 || format(FORMAT_3);
    let format_2 = format_3 || format(FORMAT_2);
    if format_2 {
        r.take(8)?;
    }
    // a source is where it lies in `payload` (older formats) or in the blob (the fourth): its
    // offset and length, checked against the blob once it is found
    let at = |slice: &[u8]| slice.as_ptr() as usize - payload.as_ptr() as usize;
    let n = r.count()?;
    let mut entries = Vec::with_capacity(n);
    for _ in 0..n {
        let index = r.string()?;
        let nc = r.count()?;
        let mut changes = Vec::with_capacity(nc);
        for _ in 0..nc {
            let name = r.string()?;
            let mapping = r.string()?;
            let value = if r.flag()? { Some(r.string()?) } else { None };
            changes.push((name, FieldMapping { mapping, multi: false, value }));
        }
        let nd = r.count()?;
        let mut docs = Vec::with_capacity(nd);
        for _ in 0..nd {
            let id = if r.flag()? { Some(r.string()?) } else { None };
            let range = if format_4 {
                let start = r.u64()?;
                let len = r.u64()?;
                (start, len)
            } else {
                let bytes = r.bytes()?;
                (at(bytes) as u64, bytes.len() as u64)
            };
            docs.push((id, range));
        }
        let settings = if format_2 && r.flag()? {
            Some(serde_json::from_slice(r.bytes()?).map_err(|e| format!("bad index settings: {e}"))?)
        } else {
            None
        };
        let mut replaces = Vec::new();
        if format_3 {
            let nr = r.count()?;
            for _ in 0..nr {
                let id = r.string()?;
                replaces.push((id, r.u64()?));
            }
        }
        entries.push((index, changes, docs, settings, replaces));
    }
    let (base, blob) = if format_4 {
        let blob = r.len()?;
        let bytes = r.take(blob)?;
        (at(bytes), blob)
    } else {
        (0, payload.len())
    };
    if !r.0.is_empty() {
        return Err(format!("{} bytes after the last entry", r.0.len()));
    }
    let source = |(start, len): (u64, u64)| -> Result<Source, String> {
        let (start, len) = (usize::try_from(start).unwrap_or(usize::MAX), usize::try_from(len).unwrap_or(usize::MAX));
        match start.checked_add(len) {
            Some(end) if end <= blob => Ok(Source::new(payload.clone(), base + start..base + end)),
            _ => Err(format!("a source at {start} of {len} bytes is beyond the {blob} bytes of the record")),
        }
    };
    entries
        .into_iter()
        .map(|(index, changes, docs, settings, replaces)| {
            let docs = docs.into_iter().map(|(id, range)| Ok((id, source(range)?))).collect::<Result<_, String>>()?;
            Ok(RecordEntry { index, changes, docs, settings, replaces })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip() {
        let entries = vec![
            RecordEntry {
                index: "logs-a-default".into(),
                changes: vec![("x".into(), FieldMapping::new("long")), ("c".into(), FieldMapping::constant("v"))],
                docs: vec![(None, Source::from(&b"{\"x\":1}"[..])), (Some("id1".into()), Source::from(&b"{}"[..]))],
                settings: None,
                replaces: vec![("id1".into(), 3)],
            },
            RecordEntry {
                index: "b".into(),
                changes: vec![],
                docs: vec![(None, Source::from(&b"{\"y\":2}"[..]))],
                settings: Some(IndexSettings { data_stream: true, ..IndexSettings::default() }),
                replaces: vec![],
            },
        ];
        let bytes = Bytes::from(encode_record(entries.iter()).concat());
        assert_eq!(decode_record(&bytes).expect("decode"), entries);
        for cut in 0..bytes.len() {
            assert!(decode_record(&bytes.slice(..cut)).is_err(), "cut at {cut}");
        }
        // a record of the first format (no settings): count, then entries
        let mut v1 = Vec::new();
        v1.extend_from_slice(&1u64.to_le_bytes());
        v1.extend_from_slice(&1u64.to_le_bytes());
        v1.push(b'a');
        v1.extend_from_slice(&0u64.to_le_bytes());
        v1.extend_from_slice(&1u64.to_le_bytes());
        v1.push(0);
        v1.extend_from_slice(&2u64.to_le_bytes());
        v1.extend_from_slice(b"{}");
        let decoded = decode_record(&Bytes::from(v1)).expect("first format");
        assert_eq!(
            decoded,
            vec![RecordEntry {
                index: "a".into(),
                changes: vec![],
                docs: vec![(None, Source::from(&b"{}"[..]))],
                settings: None,
                replaces: vec![],
            }]
        );
    }

    #[test]
    fn sources_are_written_as_runs_of_their_blocks() {
        // two blocks of input lines; the entries take documents of both, interleaved
        let one = Bytes::from_static(b"{\"a\":1}\n{\"a\":2}\nrefused\n{\"a\":3}\n");
        let two = Bytes::from_static(b"{\"b\":1}\n{\"b\":2}\n");
        let line = |block: &Bytes, n: usize| {
            let starts: Vec<usize> = std::iter::once(0)
                .chain(block.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1))
                .collect();
            Source::new(block.clone(), starts[n]..starts[n + 1] - 1)
        };
        let entry = |index: &str, docs: Vec<Source>| RecordEntry {
            index: index.into(),
            changes: vec![],
            docs: docs.into_iter().map(|d| (None, d)).collect(),
            settings: None,
            replaces: vec![],
        };
        let entries = vec![
            entry("x", vec![line(&one, 0), line(&two, 1), line(&one, 3)]),
            entry("y", vec![line(&two, 0), line(&one, 1)]),
        ];
        let parts = encode_record(entries.iter());
        // the entries, then one run per block
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1], one.slice(..one.len() - 1));
        assert_eq!(parts[2], two.slice(..two.len() - 1));
        let decoded = decode_record(&Bytes::from(parts.concat())).expect("decode");
        assert_eq!(decoded, entries);
        // a source beyond the blob is refused
        let mut bad = parts[0].to_vec();
        let blob = (parts[1].len() + parts[2].len()) as u64;
        bad.truncate(bad.len() - 8);
        bad.extend_from_slice(&(blob - 1).to_le_bytes());
        bad.extend_from_slice(&vec![b' '; blob as usize - 1]);
        assert!(decode_record(&Bytes::from(bad)).is_err());
    }

    #[test]
    fn records_of_the_second_format_are_still_read() {
        // settings, no replaced documents
        let mut v2 = Vec::new();
        v2.extend_from_slice(&FORMAT_2.to_le_bytes());
        v2.extend_from_slice(&1u64.to_le_bytes());
        v2.extend_from_slice(&1u64.to_le_bytes());
        v2.push(b'a');
        v2.extend_from_slice(&0u64.to_le_bytes());
        v2.extend_from_slice(&1u64.to_le_bytes());
        v2.push(1);
        v2.extend_from_slice(&1u64.to_le_bytes());
        v2.push(b'x');
        v2.extend_from_slice(&2u64.to_le_bytes());
        v2.extend_from_slice(b"{}");
        v2.push(0);
        let expected = RecordEntry {
            index: "a".into(),
            changes: vec![],
            docs: vec![(Some("x".into()), Source::from(&b"{}"[..]))],
            settings: None,
            replaces: vec![],
        };
        assert_eq!(decode_record(&Bytes::from(v2)).expect("second format"), vec![expected]);
    }

    #[test]
    fn generated_ids_are_unique_and_url_safe() {
        let a = generated_id(1, 0, [1, 2, 3]);
        let b = generated_id(1, 1, [1, 2, 3]);
        let c = generated_id(2, 0, [1, 2, 3]);
        assert_eq!(a.len(), 20);
        assert!(a != b && a != c && b != c);
        assert!(a.bytes().all(|ch| ch.is_ascii_alphanumeric() || ch == b'-' || ch == b'_'));
        // ordered by sequence number
        assert!(a < c);
    }

    #[test]
    fn documents_refused_whatever_the_mapping() {
        let kind = |source: &[u8]| {
            parse_document(&source.into(), &mut Names::default(), Duplicates::Refuse).err().map(|e| e.reason)
        };
        assert!(kind(b"{\"a\":1}").is_none());
        assert!(kind(b"{\"a\":").is_some_and(|r| r.contains("EOF")));
        assert!(kind(b"{\"a\":\"\xff\"}").is_some_and(|r| r.contains("invalid UTF-8 at byte 6")));
        assert!(kind(b"[1]").is_some_and(|r| r.contains("expected a JSON object")));
        assert!(kind(b"{\"_id\":\"x\"}").is_some_and(|r| r.contains("metadata field")));
        assert!(kind(b"{\"_ignored\":{\"x\":1}}").is_some_and(|r| r.contains("metadata field")));
        assert!(kind(b"{\"a.\":1}").is_some_and(|r| r.contains("[a.]")));
        assert!(kind(b"{\"a\":{\" \":1}}").is_some());
    }
}
