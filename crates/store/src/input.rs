//! Reading ingest input: NDJSON (one document a line) or the Elasticsearch bulk format (action
//! line, then source line), either of them gzip-compressed, as a stream of [`RawItem`]s.
//!
//! Input is read in large blocks, and each document's source is a range of its block
//! ([`Source`]): parsing reads it, and the write-ahead log writes it, where it was read.
//!
//! Lines are read with a length cap, so a huge line costs one item, not the process's memory.
//! Nothing here parses documents; that happens per item in [`crate::ingest`].

use crate::error::DocumentError;
use bytes::Bytes;
use flate2::bufread::MultiGzDecoder;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::ops::Range;

/// Input is read in blocks of up to this size (bigger when a line is longer); the first block
/// is [`FIRST_BLOCK`], and each next one twice the last, so that a small input (most `_bulk`
/// requests) takes little memory.
const BLOCK: usize = 4 << 20;
const FIRST_BLOCK: usize = 64 << 10;

/// A document's source: a range of the block of input it was read with, shared, not copied.
#[derive(Clone, Default)]
pub(crate) struct Source {
    block: Bytes,
    start: usize,
    end: usize,
}

impl Source {
    /// The bytes `range` of `block`.
    ///
    /// # Panics
    /// When `range` is not within `block` (a bug of the caller).
    pub fn new(block: Bytes, range: Range<usize>) -> Source {
        assert!(range.start <= range.end && range.end <= block.len(), "invariant: a source lies within its block");
        Source { block, start: range.start, end: range.end }
    }

    /// The block the source lies in.
    pub fn block(&self) -> &Bytes {
        &self.block
    }

    /// Where in its block the source lies.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

impl From<Vec<u8>> for Source {
    fn from(bytes: Vec<u8>) -> Source {
        let end = bytes.len();
        Source { block: Bytes::from(bytes), start: 0, end }
    }
}

impl From<&[u8]> for Source {
    fn from(bytes: &[u8]) -> Source {
        Source::from(bytes.to_vec())
    }
}

impl std::ops::Deref for Source {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.block[self.start..self.end]
    }
}

impl PartialEq for Source {
    fn eq(&self, other: &Source) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

/// The input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON document a line.
    Ndjson,
    /// Elasticsearch `_bulk`: `{"create":{…}}` / `{"index":{…}}` lines, each followed by a source.
    Bulk,
    /// Bulk when the first non-blank line is a bulk action line, NDJSON otherwise.
    Auto,
}

/// What a bulk item asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `create`: add a document, failing when its `_id` exists.
    Create,
    /// `index`: add (or, in Elasticsearch, replace) a document.
    Index,
    /// Any other action (`delete`, `update`, or an unknown word), reported as an error.
    Other(String),
}

impl Op {
    /// The action's name as `_bulk` writes it in results.
    pub fn name(&self) -> &str {
        match self {
            Op::Create => "create",
            Op::Index => "index",
            Op::Other(name) => name,
        }
    }
}

/// One item of input: a document's source bytes with its action, or the error that costs it.
#[derive(Debug)]
pub(crate) struct RawItem {
    /// 1-based line of the source (of the action line when the item failed there).
    pub line: usize,
    pub op: Op,
    /// `_index` of the action line.
    pub index: Option<String>,
    /// `_id` of the action line.
    pub id: Option<String>,
    pub source: Result<Source, DocumentError>,
}

/// Wraps `reader` in a gzip decoder when its first bytes are the gzip magic number.
pub(crate) fn decompress<'a, R: BufRead + 'a>(mut reader: R) -> std::io::Result<Box<dyn BufRead + 'a>> {
    let head = reader.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(reader))))
    } else {
        Ok(Box::new(reader))
    }
}

enum Line {
    Text(Source),
    TooLong(usize),
    Failed(std::io::Error),
}

/// Lines of at most `max` bytes; longer ones are skipped and reported with their length.
struct Lines<R> {
    reader: R,
    max: usize,
    line: usize,
    done: bool,
    peeked: Option<(usize, Line)>,
    /// The block being cut into lines, and where its next line starts.
    block: Bytes,
    pos: usize,
    /// How much past `pos` is known to hold no newline.
    scanned: usize,
    /// The size of the next block.
    block_size: usize,
}

impl<R: BufRead> Lines<R> {
    fn new(reader: R, max: usize) -> Lines<R> {
        Lines {
            reader,
            max,
            line: 0,
            done: false,
            peeked: None,
            block: Bytes::new(),
            pos: 0,
            scanned: 0,
            block_size: FIRST_BLOCK,
        }
    }

    fn read_line(&mut self) -> Option<(usize, Line)> {
        if let Some(peeked) = self.peeked.take() {
            return Some(peeked);
        }
        // bytes of an overlong line dropped so far
        let mut dropped = 0usize;
        loop {
            let rest = &self.block[self.pos..];
            if let Some(i) = memchr::memchr(b'\n', &rest[self.scanned..]) {
                let end = self.pos + self.scanned + i;
                let start = std::mem::replace(&mut self.pos, end + 1);
                self.scanned = 0;
                self.line += 1;
                let len = dropped + end - start;
                if len > self.max {
                    return Some((self.line, Line::TooLong(len)));
                }
                return Some((self.line, Line::Text(Source::new(self.block.clone(), start..end))));
            }
            self.scanned = rest.len();
            if dropped + rest.len() > self.max {
                // a line too long to keep: only its length counts from here on
                dropped += rest.len();
                self.pos = self.block.len();
                self.scanned = 0;
            }
            if self.done {
                let (start, end) = (self.pos, self.block.len());
                self.pos = end;
                self.scanned = 0;
                if dropped + end - start == 0 {
                    return None;
                }
                // the last line, without a newline
                self.line += 1;
                if dropped > 0 {
                    return Some((self.line, Line::TooLong(dropped + end - start)));
                }
                return Some((self.line, Line::Text(Source::new(self.block.clone(), start..end))));
            }
            if let Err(e) = self.fill() {
                self.done = true;
                self.pos = self.block.len();
                self.scanned = 0;
                self.line += 1;
                return Some((self.line, Line::Failed(e)));
            }
        }
    }

    /// Reads a new block, starting with the unfinished line of the last one, until it is full
    /// or the input ends.
    fn fill(&mut self) -> std::io::Result<()> {
        let rest = &self.block[self.pos..];
        let mut next = vec![0u8; self.block_size.max(rest.len() * 2)];
        self.block_size = (self.block_size * 2).min(BLOCK);
        next[..rest.len()].copy_from_slice(rest);
        let mut filled = rest.len();
        while filled < next.len() {
            match self.reader.read(&mut next[filled..]) {
                Ok(0) => {
                    self.done = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        next.truncate(filled);
        self.block = Bytes::from(next);
        self.pos = 0;
        Ok(())
    }

    /// The next line that is not blank.
    fn next_line(&mut self) -> Option<(usize, Line)> {
        loop {
            match self.read_line()? {
                (_, Line::Text(t)) if t.iter().all(u8::is_ascii_whitespace) => continue,
                other => return Some(other),
            }
        }
    }

    fn push_back(&mut self, line: (usize, Line)) {
        self.peeked = Some(line);
    }
}

/// Reads items from `reader` (already decompressed).
pub(crate) struct Items<R> {
    lines: Lines<R>,
    format: Format,
    max_document: usize,
}

impl<R: BufRead> Items<R> {
    /// Items of `reader` in `format`; lines longer than `max_document` bytes are refused.
    pub fn new(reader: R, format: Format, max_document: usize) -> Items<R> {
        let lines = Lines::new(reader, max_document);
        Items { lines, format, max_document }
    }

    fn too_large(&self, len: usize) -> DocumentError {
        DocumentError::too_large(format!(
            "the line of {len} bytes is larger than the maximum document size of {} bytes",
            self.max_document
        ))
    }

    fn item(line: usize, op: Op, source: Result<Source, DocumentError>) -> RawItem {
        RawItem { line, op, index: None, id: None, source }
    }

    fn next_ndjson(&mut self) -> Option<RawItem> {
        let (line, text) = self.lines.next_line()?;
        Some(match text {
            Line::Text(t) => Self::item(line, Op::Create, Ok(t)),
            Line::TooLong(len) => Self::item(line, Op::Create, Err(self.too_large(len))),
            Line::Failed(e) => Self::item(line, Op::Create, Err(read_error(&e))),
        })
    }

    fn next_bulk(&mut self) -> Option<RawItem> {
        let (line, text) = self.lines.next_line()?;
        let bytes = match text {
            Line::Text(t) => t,
            Line::TooLong(len) => {
                self.skip_source();
                return Some(Self::item(line, Op::Other("unknown".into()), Err(self.too_large(len))));
            }
            Line::Failed(e) => return Some(Self::item(line, Op::Other("unknown".into()), Err(read_error(&e)))),
        };
        let action = match parse_action(&bytes, line) {
            Ok(action) => action,
            Err(error) => {
                self.skip_source();
                return Some(Self::item(line, Op::Other("unknown".into()), Err(error)));
            }
        };
        match action.op {
            Op::Create | Op::Index => {}
            Op::Other(ref name) => {
                let error = if name == "delete" || name == "update" {
                    if name == "update" {
                        self.skip_source();
                    }
                    DocumentError::illegal(format!("the [{name}] action is not supported by Saker"))
                } else {
                    self.skip_source();
                    DocumentError::illegal(format!(
                        "Malformed action/metadata line [{line}], expected one of [create, delete, index, update] but found [{name}]"
                    ))
                };
                return Some(RawItem { line, op: action.op, index: action.index, id: action.id, source: Err(error) });
            }
        }
        let source = match self.lines.next_line() {
            Some((source_line, Line::Text(t))) if !is_action_line(&t) => {
                return Some(RawItem {
                    line: source_line,
                    op: action.op,
                    index: action.index,
                    id: action.id,
                    source: Ok(t),
                });
            }
            Some((source_line, Line::TooLong(len))) => {
                return Some(RawItem {
                    line: source_line,
                    op: action.op,
                    index: action.index,
                    id: action.id,
                    source: Err(self.too_large(len)),
                });
            }
            Some((_, Line::Failed(e))) => Err(read_error(&e)),
            Some(next) => {
                // Deviation: Elasticsearch would index the next action line as this action's
                // source; a missing source is far likelier, so the line stays an action.
                self.lines.push_back(next);
                Err(missing_source(&action.op, line))
            }
            None => Err(missing_source(&action.op, line)),
        };
        Some(RawItem { line, op: action.op, index: action.index, id: action.id, source })
    }

    /// Skips the line after a failed action line when it looks like a source, not an action.
    fn skip_source(&mut self) {
        match self.lines.next_line() {
            Some((_, Line::Text(t))) if !is_action_line(&t) => {}
            Some((_, Line::TooLong(_))) | None => {}
            Some(next) => self.lines.push_back(next),
        }
    }
}

impl<R: BufRead> Iterator for Items<R> {
    type Item = RawItem;

    fn next(&mut self) -> Option<RawItem> {
        if self.format == Format::Auto {
            let first = self.lines.next_line()?;
            self.format = match &first.1 {
                Line::Text(t) if is_action_line(t) => Format::Bulk,
                _ => Format::Ndjson,
            };
            self.lines.push_back(first);
        }
        match self.format {
            Format::Bulk => self.next_bulk(),
            _ => self.next_ndjson(),
        }
    }
}

fn read_error(e: &std::io::Error) -> DocumentError {
    DocumentError::parsing(format!("reading the input failed: {e}"))
}

fn missing_source(op: &Op, line: usize) -> DocumentError {
    DocumentError {
        kind: "action_request_validation_exception",
        reason: format!("Validation Failed: 1: source is missing for the [{}] action on line [{line}];", op.name()),
        status: 400,
    }
}

struct Action {
    op: Op,
    index: Option<String>,
    id: Option<String>,
}

/// The parameters an action line may carry besides `_index` and `_id`; accepted and ignored.
const IGNORED_PARAMETERS: [&str; 12] = [
    "routing",
    "_routing",
    "pipeline",
    "require_alias",
    "require_data_stream",
    "dynamic_templates",
    "if_seq_no",
    "if_primary_term",
    "version",
    "version_type",
    "list_executed_pipelines",
    "op_type",
];

fn parse_action(bytes: &[u8], line: usize) -> Result<Action, DocumentError> {
    let malformed = |what: String| DocumentError::illegal(format!("Malformed action/metadata line [{line}], {what}"));
    let value: Value = serde_json::from_slice(bytes).map_err(|e| malformed(format!("not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(malformed("expected START_OBJECT".to_string()));
    };
    let mut entries = map.into_iter();
    let (Some((name, params)), None) = (entries.next(), entries.next()) else {
        return Err(malformed("expected one action with its parameters".to_string()));
    };
    let op = match name.as_str() {
        "create" => Op::Create,
        "index" => Op::Index,
        _ => Op::Other(name.clone()),
    };
    let Value::Object(params) = params else {
        return Err(malformed(format!("expected an object after [{name}]")));
    };
    let mut action = Action { op, index: None, id: None };
    for (key, value) in params {
        match (key.as_str(), value) {
            ("_index", Value::String(s)) => action.index = Some(s),
            ("_id", Value::String(s)) => action.id = Some(s),
            ("_index" | "_id", other) => {
                return Err(DocumentError::illegal(format!(
                    "Action/metadata line [{line}]: [{key}] must be a string, found [{other}]"
                )));
            }
            (k, _) if IGNORED_PARAMETERS.contains(&k) => {}
            (k, _) => {
                return Err(DocumentError::illegal(format!(
                    "Action/metadata line [{line}] contains an unknown parameter [{k}]"
                )));
            }
        }
    }
    if action.id.as_deref().is_some_and(|id| id.is_empty() || id.len() > 512) {
        return Err(DocumentError::illegal(format!(
            "Action/metadata line [{line}]: an id must be 1 to 512 bytes long"
        )));
    }
    Ok(action)
}

/// True when a line is a bulk action line: one key among `index`, `create`, `delete`, `update`
/// whose value is an object of action parameters.
pub(crate) fn is_action_line(bytes: &[u8]) -> bool {
    let trimmed = bytes.trim_ascii_start();
    if bytes.len() > 4096 || !trimmed.starts_with(b"{") {
        return false;
    }
    let rest = trimmed[1..].trim_ascii_start();
    if !["\"index\"", "\"create\"", "\"delete\"", "\"update\""].iter().any(|a| rest.starts_with(a.as_bytes())) {
        return false;
    }
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) else {
        return false;
    };
    map.len() == 1
        && map.values().all(|v| match v {
            Value::Object(params) => {
                params.keys().all(|k| k == "_index" || k == "_id" || IGNORED_PARAMETERS.contains(&k.as_str()))
            }
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &[u8], format: Format, max: usize) -> Vec<RawItem> {
        Items::new(text, format, max).collect()
    }

    fn summary(items: &[RawItem]) -> Vec<String> {
        items
            .iter()
            .map(|i| match &i.source {
                Ok(s) => format!("{}:{}:{}", i.line, i.op.name(), String::from_utf8_lossy(s)),
                Err(e) => format!("{}:{}:error {}", i.line, i.op.name(), e.kind),
            })
            .collect()
    }

    #[test]
    fn ndjson_lines() {
        let text = b"{\"a\":1}\n\n  \n{\"a\":2}\r\n{\"a\":3}";
        assert_eq!(
            summary(&items(text, Format::Ndjson, 100)),
            vec!["1:create:{\"a\":1}", "4:create:{\"a\":2}\r", "5:create:{\"a\":3}"]
        );
        let long = format!("{{\"a\":\"{}\"}}\n{{\"b\":1}}\n", "x".repeat(200));
        assert_eq!(
            summary(&items(long.as_bytes(), Format::Ndjson, 100)),
            vec!["1:create:error document_too_large_exception", "2:create:{\"b\":1}"]
        );
    }

    #[test]
    fn lines_across_blocks() {
        // lines of every length around the block size and the cap, read in blocks of 16 bytes
        let mut text = Vec::new();
        let mut expected = Vec::new();
        for (n, len) in [0usize, 1, 15, 16, 17, 3, 40, 41, 42, 0, 100, 7, 33].into_iter().enumerate() {
            let line: Vec<u8> = (0..len).map(|i| b'a' + ((i + n) % 26) as u8).collect();
            text.extend_from_slice(&line);
            text.push(b'\n');
            if len > 0 {
                expected.push(if len > 41 {
                    format!("{}:error {len}", n + 1)
                } else {
                    String::from_utf8(line).expect("ascii")
                });
            }
        }
        text.extend_from_slice(b"last");
        expected.push("last".into());
        let mut lines = Lines::new(text.as_slice(), 41);
        lines.block_size = 16;
        let mut got = Vec::new();
        while let Some((n, line)) = lines.next_line() {
            got.push(match line {
                Line::Text(t) => String::from_utf8(t.to_vec()).expect("ascii"),
                Line::TooLong(len) => format!("{n}:error {len}"),
                Line::Failed(e) => panic!("{e}"),
            });
        }
        assert_eq!(got, expected);
    }

    #[test]
    fn bulk_items_and_errors() {
        let text = br#"{"create":{"_index":"logs-a-default","_id":"1"}}
{"a":1}
{"index":{}}
{"a":2}
{"delete":{"_id":"1"}}
{"upsert":{}}
{"a":3}
{"create":{}}
{"create":{}}
{"a":4}
{"update":{"_id":"1"}}
{"doc":{"a":5}}
not json
{"a":6}
{"index":{"_idx":"x"}}
{"a":7}
{"create":{}}
"#;
        let items = items(text, Format::Bulk, 1000);
        assert_eq!(
            summary(&items),
            vec![
                "2:create:{\"a\":1}",
                "4:index:{\"a\":2}",
                "5:delete:error illegal_argument_exception",
                "6:upsert:error illegal_argument_exception",
                "8:create:error action_request_validation_exception",
                "10:create:{\"a\":4}",
                "11:update:error illegal_argument_exception",
                "13:unknown:error illegal_argument_exception",
                "15:unknown:error illegal_argument_exception",
                "17:create:error action_request_validation_exception",
            ]
        );
        assert_eq!(items[0].index.as_deref(), Some("logs-a-default"));
        assert_eq!(items[0].id.as_deref(), Some("1"));
    }

    #[test]
    fn auto_detection_and_gzip() {
        let bulk = b"{\"index\":{}}\n{\"a\":1}\n";
        assert_eq!(summary(&items(bulk, Format::Auto, 100)), vec!["2:index:{\"a\":1}"]);
        let ndjson = b"{\"index\":\"not an action\"}\n";
        assert_eq!(summary(&items(ndjson, Format::Auto, 100)), vec!["1:create:{\"index\":\"not an action\"}"]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, bulk).expect("gzip");
        let compressed = gz.finish().expect("gzip");
        let reader = decompress(compressed.as_slice()).expect("decompress");
        assert_eq!(summary(&Items::new(reader, Format::Auto, 100).collect::<Vec<_>>()), vec!["2:index:{\"a\":1}"]);
        // a truncated gzip stream fails the line it breaks, after the good ones
        let reader = decompress(&compressed[..compressed.len() - 6]).expect("decompress");
        let got = summary(&Items::new(reader, Format::Ndjson, 100).collect::<Vec<_>>());
        assert_eq!(got.last().map(|s| s.ends_with("error document_parsing_exception")), Some(true), "{got:?}");
    }
}
