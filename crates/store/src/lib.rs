//! Saker's embedded ECS store: one data folder holding indices and data streams as Elastic names
//! and maps them, written through a write-ahead log, kept as Parquet segments, and read by ES|QL
//! through the [`Catalog`] trait.
//!
//! - [`Store::open`] opens (or creates) a data folder and replays its log: what was acknowledged
//!   before a crash is there, once.
//! - [`Store::ingest_ndjson`], [`Store::ingest_bulk`] and [`Store::ingest_files`] add documents
//!   (NDJSON or `_bulk` format, gzip or not) and report, per document, what was stored and what
//!   was refused and why ([`IngestReport`]). A call returns once its documents are durable, and
//!   they are searchable from then on.
//! - [`Store::flush`] (also run in the background) moves buffered documents to Parquet segments.
//! - [`Store`] is a [`Catalog`]: `esql::execute(Arc::new(store), "FROM logs-* | …")`.
//! - An `index` action whose `_id` exists replaces the document (not in data streams, as in
//!   Elasticsearch); [`Store::update_documents`] updates fields of documents by `_id`.
//! - [`Store::delete_index`] deletes an index or data stream; [`Store::put_index_template`] and
//!   its siblings manage index templates ([`templates`]); [`Store::set_lifecycle`] sets how long
//!   an index keeps its documents.
//! - In the background (or when called: [`Store::compact`], [`Store::apply_retention`]), small
//!   segments of a day are merged into one, and whole days older than an index's retention are
//!   deleted.
//!
//! # The data folder
//! ```text
//! <data>/store.json                     format version and the nonce of generated ids
//! <data>/lock                           held while a process has the store open
//! <data>/templates.json                 the index templates (see [`templates`])
//! <data>/wal/<first seq>.wal            the write-ahead log (see `wal`)
//! <data>/wal/spare                      a log file done with, kept to be written over
//! <data>/indices/<index>/mapping.json   the mapping (see [`mapping::Mapping`])
//! <data>/indices/<index>/settings.json  data stream or not, lifecycle (see [`settings::IndexSettings`])
//! <data>/indices/<index>/manifest.json  the segments (see [`segment::Manifest`])
//! <data>/indices/<index>/segments/<YYYY-MM-DD>/<id>.parquet
//! ```
//!
//! # Crash safety
//! The manifest is the one list of an index's segments; it is replaced atomically, after the
//! files it lists are durable and before the files it no longer lists are removed. So a flush, a
//! merge of segments or the deletion of old days either happened or did not, whenever the
//! process stops; files a crash leaves unlisted are removed when the store is next opened. A
//! deleted index keeps a tombstone manifest (no segments, the last log sequence number it owned)
//! until the log no longer holds its records, so that replaying the log cannot bring it back.
//! Index creation (with the settings its template gave) and settings changes are log records
//! too, replayed like documents.
//!
//! A replacement is one log record: the new version, with the `_id`s it replaces and their new
//! versions. It is made durable before it is applied; applying it removes the old version's rows
//! from the buffer and records the replacement (`_id` → the record's sequence number) in the
//! index. Each segment records the last sequence number its rows come from (`max_seq`), so the
//! rows of a replaced `_id` in a segment older than its replacement are dead: queries skip them
//! and merges drop them. The replacements are saved in the manifest at each flush (with
//! `flushed_seq`) and replayed from the log after it, so exactly one version is ever visible.
//!
//! # Mappings
//! Fields the ECS table knows ([`ecs::field_type`]) get its type; others are typed dynamically by
//! the first batch that has them (strings → keyword, integers → long, fractions → double,
//! booleans → boolean, as `logs@mappings`). A value that does not fit its field's type is dropped
//! and the field named in `_ignored`, the document kept (`ignore_malformed`). Documents are
//! refused where Elasticsearch refuses them: invalid JSON, metadata fields in the source, a field
//! that is both a value and an object, a `constant_keyword` value that differs from the index's,
//! `create` with an `_id` that exists, and in data streams `index` with an `_id`, or a missing or
//! invalid `@timestamp`.
//!
//! # Deviations from Elasticsearch
//! - `_index` is the data stream's name, not its backing index.
//! - `update` and `delete` actions are refused ([`Store::update_documents`] updates documents).
//! - ES|QL's `METADATA _version` is 1 (the `_bulk` results give the real version).
//! - [`Store::update_documents`] rebuilds a document from its stored fields (there is no
//!   `_source`): values dropped as malformed and values of fields ES|QL cannot read are lost.
//! - In a bulk body, an action line directly after an action line is taken as the next action
//!   (the first one has no source), not as the first one's document.
#![warn(missing_docs)]

mod columns;
mod doc;
pub mod error;
mod index;
mod ingest;
pub mod input;
mod maintenance;
pub mod mapping;
pub mod names;
pub mod segment;
pub mod settings;
mod table;
pub mod templates;
mod wal;

pub use error::{DocumentError, StoreError};
pub use ingest::{IngestReport, ItemResult};
pub use input::{Format, Op};
pub use maintenance::{CompactionReport, RetentionReport};
pub use settings::{IndexSettings, Lifecycle, TimeValue};
pub use table::{IndexSnapshot, IndexTable};
pub use templates::{IndexTemplate, TemplateError};

use crate::doc::{Duplicates, Names};
use crate::index::{IndexState, NewDoc};
use crate::ingest::{Pending, Prepared, RecordEntry};
use crate::input::{Items, RawItem};
use crate::mapping::{FieldMapping, Mapping};
use crate::segment::{MANIFEST, MAPPING, Manifest};
use crate::settings::SETTINGS;
use crate::table::SegmentFile;
use crate::templates::{TEMPLATES, Templates};
use crate::wal::Wal;
use esql::catalog::{Catalog, Index};
use esql::datafusion::arrow::array::{Array, StringArray};
use esql::datafusion::arrow::compute::concat_batches;
use esql::datafusion::arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How a store behaves.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Fsync the log before acknowledging (true). Off only for benchmarks: a crash may then lose
    /// acknowledged documents.
    pub fsync: bool,
    /// Flush when the buffer holds this many bytes (64 MiB).
    pub flush_bytes: usize,
    /// Flush buffered documents at least this often (60 s), from a background thread.
    pub flush_interval: Duration,
    /// Run the background flusher (true). Without it, an ingest call that fills the buffer
    /// flushes before returning.
    pub background_flush: bool,
    /// The largest document (one input line) accepted, in bytes (32 MiB).
    pub max_document_bytes: usize,
    /// The most fields an index maps; new fields beyond it go to `_ignored` (10,000, as Fleet
    /// sets `index.mapping.total_fields.limit` for data streams).
    pub max_fields: usize,
    /// Input is committed in batches of about this many bytes of documents (8 MiB): one log
    /// record and one buffer batch each.
    pub batch_bytes: usize,
    /// Merge small segments and apply retention from a background thread (true). Without it,
    /// [`Store::compact`] and [`Store::apply_retention`] do it when called.
    pub background_maintenance: bool,
    /// How often the background thread merges segments and applies retention (60 s).
    pub maintenance_interval: Duration,
    /// Segments smaller than this are merged with the other small ones of their day (32 MiB).
    pub compaction_small_bytes: u64,
    /// A day's small segments are merged once there are at least this many (8).
    pub compaction_min_segments: usize,
    /// One merge reads at most this many bytes of segments (256 MiB).
    pub compaction_max_bytes: u64,
    /// One merge reads at most this many rows (262,144), and segments of more than half as many
    /// are not merged: a merge holds its rows in memory, decompressed, so this bounds its memory
    /// whatever the compression ratio.
    pub compaction_max_rows: u64,
    /// The retention of data streams whose lifecycle is enabled without a `data_retention` of
    /// their own, as Elasticsearch's `data_streams.lifecycle.retention.default` (none).
    pub default_retention: Option<Duration>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            fsync: true,
            flush_bytes: 64 << 20,
            flush_interval: Duration::from_secs(60),
            background_flush: true,
            max_document_bytes: 32 << 20,
            max_fields: 10_000,
            batch_bytes: 8 << 20,
            background_maintenance: true,
            maintenance_interval: Duration::from_secs(60),
            compaction_small_bytes: 32 << 20,
            compaction_min_segments: 8,
            compaction_max_bytes: 256 << 20,
            compaction_max_rows: 256 * 1024,
            default_retention: None,
        }
    }
}

/// One index as `saker indices` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexStats {
    /// The index name.
    pub name: String,
    /// True for a data stream (`logs-<dataset>-<namespace>`).
    pub data_stream: bool,
    /// True for a hidden index (name starting with `.`).
    pub hidden: bool,
    /// Searchable documents; the older versions of replaced documents count until a merge
    /// drops them from their segment.
    pub docs: u64,
    /// Documents still in the in-memory buffer (durable in the log).
    pub buffered_docs: u64,
    /// Bytes on disk (segments) plus bytes of the buffer in memory.
    pub bytes: u64,
    /// Number of Parquet segments.
    pub segments: usize,
    /// Smallest `@timestamp`, ms since the epoch.
    pub min_time: Option<i64>,
    /// Largest `@timestamp`, ms since the epoch.
    pub max_time: Option<i64>,
}

/// Progress of [`Store::ingest_files`], reported after every committed batch.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    /// The file being read.
    pub path: &'a Path,
    /// Bytes of this file read so far (compressed bytes for a gzip file).
    pub file_bytes_read: u64,
    /// Size of this file.
    pub file_bytes: u64,
    /// Bytes of all files read so far.
    pub bytes_read: u64,
    /// Size of all files.
    pub total_bytes: u64,
    /// Documents stored so far, all files.
    pub accepted: u64,
    /// Items refused so far, all files.
    pub failed: u64,
}

/// What [`Store::ingest_files`] did with one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// Documents stored.
    pub accepted: u64,
    /// Items refused.
    pub failed: u64,
    /// Bytes of the file.
    pub bytes: u64,
    /// Why the file could not be read at all (or stopped being readable).
    pub error: Option<String>,
}

/// What [`Store::ingest_files`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilesReport {
    /// One entry per file, in the order given.
    pub files: Vec<FileReport>,
    /// The refused items (at most [`FilesReport::MAX_FAILURES`] of them), with their file.
    pub failures: Vec<(PathBuf, ItemResult)>,
}

impl FilesReport {
    /// How many refused items [`FilesReport::failures`] keeps.
    pub const MAX_FAILURES: usize = 10_000;

    /// Documents stored, all files.
    pub fn accepted(&self) -> u64 {
        self.files.iter().map(|f| f.accepted).sum()
    }

    /// Items refused, all files.
    pub fn failed(&self) -> u64 {
        self.files.iter().map(|f| f.failed).sum()
    }

    /// Bytes read, all files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }
}

/// What opening the store found in the write-ahead log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Log records replayed.
    pub records: usize,
    /// Documents replayed into the buffer (records already in segments are skipped).
    pub documents: usize,
    /// Bytes ignored at the end of log files: writes torn by a crash, never acknowledged.
    pub torn_bytes: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoreFile {
    format: u32,
    /// Hex of the 3 bytes that end every generated id of this store.
    nonce: String,
}

#[derive(Debug, Default)]
struct FlushSignal {
    stop: bool,
    wanted: bool,
}

struct State {
    indices: BTreeMap<String, IndexState>,
    next_seq: u64,
    /// Approximate bytes buffered since the last flush.
    buffered_bytes: usize,
    /// The index templates.
    templates: Templates,
    /// Deleted indices whose tombstone folder is still on disk, with the last sequence number
    /// they owned: removed by the first flush whose log rotation drops those records.
    tombstones: BTreeMap<String, u64>,
}

struct Inner {
    dir: PathBuf,
    options: StoreOptions,
    nonce: [u8; 3],
    state: Mutex<State>,
    wal: Wal,
    /// Held by whatever rewrites manifests: a flush, a deletion, the swap of a merge or of a
    /// retention pass.
    flush_lock: Mutex<()>,
    /// How many threads wait for `flush_lock` to swap a manifest: back-to-back flushes let them
    /// go first (a swap is short), so that a busy flusher cannot starve them.
    swaps_waiting: AtomicU64,
    /// One merge or retention pass at a time.
    maintenance_lock: Mutex<()>,
    signal: Mutex<FlushSignal>,
    signal_cond: Condvar,
    last_flush_error: Mutex<Option<String>>,
    last_maintenance_error: Mutex<Option<String>>,
    recovery: Recovery,
    _lock: File,
}

/// An open data folder. See the [crate documentation](crate).
pub struct Store {
    inner: Arc<Inner>,
    flusher: Option<JoinHandle<()>>,
    maintainer: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.inner.dir).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the data folder `dir` (creating it if needed) with the default options.
    ///
    /// # Errors
    /// When the folder cannot be created or read, another process has it open, or a file in it
    /// is corrupt (a torn write at the end of the log is not corruption: it is ignored).
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with(dir, StoreOptions::default())
    }

    /// Opens the data folder `dir` with `options`.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_with(dir: impl AsRef<Path>, options: StoreOptions) -> Result<Store, StoreError> {
        let dir = dir.as_ref();
        for sub in ["indices", "wal"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(StoreError::io(format!("creating {}", path.display())))?;
        }
        let dir = dir.canonicalize().map_err(StoreError::io(format!("resolving {}", dir.display())))?;
        let lock_path = dir.join("lock");
        let lock = File::create(&lock_path).map_err(StoreError::io(format!("creating {}", lock_path.display())))?;
        // A lock released an instant ago can still be held for a moment by a child process this
        // process forked meanwhile (it shares the descriptor until it execs): retry briefly.
        let deadline = std::time::Instant::now() + Duration::from_millis(500);
        while lock.try_lock().is_err() {
            if std::time::Instant::now() >= deadline {
                return Err(StoreError::Locked { path: dir });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let nonce = store_nonce(&dir)?;
        let templates = Templates::load(&dir.join(TEMPLATES))?;
        let (mut indices, tombstones) = load_indices(&dir)?;
        let (next_seq, recovery) = replay(&dir, &mut indices, &tombstones, nonce)?;
        let wal = Wal::create(&dir.join("wal"), next_seq, options.fsync)?;
        let buffered_bytes = indices.values().map(IndexState::buffer_bytes).sum();
        let background = options.background_flush;
        let maintain = options.background_maintenance;
        let inner = Arc::new(Inner {
            dir,
            options,
            nonce,
            state: Mutex::new(State { indices, next_seq, buffered_bytes, templates, tombstones }),
            wal,
            flush_lock: Mutex::new(()),
            swaps_waiting: AtomicU64::new(0),
            maintenance_lock: Mutex::new(()),
            signal: Mutex::new(FlushSignal::default()),
            signal_cond: Condvar::new(),
            last_flush_error: Mutex::new(None),
            last_maintenance_error: Mutex::new(None),
            recovery,
            _lock: lock,
        });
        let flusher = if background {
            let inner = inner.clone();
            let handle = std::thread::Builder::new()
                .name("saker-flush".to_string())
                .spawn(move || flusher_loop(&inner))
                .map_err(StoreError::io("starting the flush thread"))?;
            Some(handle)
        } else {
            None
        };
        let maintainer = if maintain {
            let inner = inner.clone();
            let handle = std::thread::Builder::new()
                .name("saker-maintenance".to_string())
                .spawn(move || maintenance::maintenance_loop(&inner))
                .map_err(StoreError::io("starting the maintenance thread"))?;
            Some(handle)
        } else {
            None
        };
        Ok(Store { inner, flusher, maintainer })
    }

    /// The data folder.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// What opening the store replayed from the log.
    pub fn recovery(&self) -> &Recovery {
        &self.inner.recovery
    }

    /// The last error of a background flush, if the last one failed.
    pub fn last_flush_error(&self) -> Option<String> {
        lock(&self.inner.last_flush_error).clone()
    }

    /// The last error of a background merge or retention pass, if the last one failed.
    pub fn last_maintenance_error(&self) -> Option<String> {
        lock(&self.inner.last_maintenance_error).clone()
    }

    /// Adds NDJSON documents (one JSON object a line; gzip-compressed or not). A document goes
    /// to `index` when given, else to the data stream its `data_stream.*` fields name
    /// (`logs-generic-default` when it has none).
    ///
    /// Returns once every stored document is durable; they are searchable from then on.
    ///
    /// # Errors
    /// Only for failures of the store as a whole; a refused document is an item of the report.
    pub fn ingest_ndjson(&self, index: Option<&str>, bytes: &[u8]) -> Result<IngestReport, StoreError> {
        self.ingest_bytes(index, bytes, Format::Ndjson)
    }

    /// Adds documents in the Elasticsearch bulk format (`create` / `index` action lines, each
    /// followed by a source line; gzip-compressed or not), as `_bulk` with `index` as the
    /// request's default index does.
    ///
    /// # Errors
    /// As [`Store::ingest_ndjson`].
    pub fn ingest_bulk(&self, index: Option<&str>, bytes: &[u8]) -> Result<IngestReport, StoreError> {
        self.ingest_bytes(index, bytes, Format::Bulk)
    }

    fn ingest_bytes(&self, index: Option<&str>, bytes: &[u8], format: Format) -> Result<IngestReport, StoreError> {
        let mut report = IngestReport { items: Vec::new(), bytes: bytes.len() as u64 };
        self.ingest_stream(bytes, index, format, |results| {
            report.items.extend(results);
            Ok(())
        })?;
        Ok(report)
    }

    /// Adds the documents of files (NDJSON or bulk format, told apart by their first line; gzip
    /// or not), calling `progress` after every batch.
    ///
    /// # Errors
    /// Only for failures of the store as a whole; an unreadable file is reported in its
    /// [`FileReport`] and the next file is read.
    pub fn ingest_files(
        &self,
        paths: &[PathBuf],
        index: Option<&str>,
        mut progress: impl FnMut(&Progress),
    ) -> Result<FilesReport, StoreError> {
        let sizes: Vec<u64> = paths.iter().map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)).collect();
        let total_bytes = sizes.iter().sum();
        let mut report = FilesReport::default();
        let (mut done_bytes, mut accepted, mut failed) = (0u64, 0u64, 0u64);
        for (path, &file_bytes) in paths.iter().zip(&sizes) {
            let mut file_report =
                FileReport { path: path.clone(), accepted: 0, failed: 0, bytes: file_bytes, error: None };
            let file = match File::open(path) {
                Ok(f) => f,
                Err(e) => {
                    file_report.error = Some(e.to_string());
                    report.files.push(file_report);
                    continue;
                }
            };
            let read = Arc::new(AtomicU64::new(0));
            let reader = BufReader::with_capacity(1 << 20, Counting { inner: file, read: read.clone() });
            let failures = &mut report.failures;
            let result = self.ingest_stream(reader, index, Format::Auto, |results| {
                for item in results {
                    if item.result.is_ok() {
                        file_report.accepted += 1;
                        accepted += 1;
                    } else {
                        file_report.failed += 1;
                        failed += 1;
                        if failures.len() < FilesReport::MAX_FAILURES {
                            failures.push((path.clone(), item));
                        }
                    }
                }
                let file_bytes_read = read.load(Ordering::Relaxed);
                progress(&Progress {
                    path,
                    file_bytes_read,
                    file_bytes,
                    bytes_read: done_bytes + file_bytes_read,
                    total_bytes,
                    accepted,
                    failed,
                });
                Ok(())
            });
            match result {
                Ok(()) => {}
                Err(StoreError::Io { context, source }) if context == INPUT_CONTEXT => {
                    file_report.error = Some(source.to_string());
                }
                Err(e) => return Err(e),
            }
            done_bytes += file_bytes;
            report.files.push(file_report);
        }
        Ok(report)
    }

    /// Reads items from `reader` and commits them in batches, handing each batch's results to
    /// `on_batch` once the batch is durable. When the input is more than one batch, a thread of
    /// its own waits for each batch's fsync while the next batch is parsed and checked; at most
    /// two batches wait at a time.
    fn ingest_stream(
        &self,
        reader: impl BufRead,
        index: Option<&str>,
        format: Format,
        mut on_batch: impl FnMut(Vec<ItemResult>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let reader = input::decompress(reader).map_err(StoreError::io(INPUT_CONTEXT))?;
        let options = &self.inner.options;
        std::thread::scope(|scope| {
            // started with the first full batch: input that fits one batch (most `_bulk`
            // requests) waits for its fsync on this thread
            let mut pipeline: Option<(SyncSender<Unsynced>, Receiver<Vec<ItemResult>>)> = None;
            let mut batch: Vec<RawItem> = Vec::new();
            let mut size = 0usize;
            let mut items = Items::new(reader, format, options.max_document_bytes);
            loop {
                let item = items.next();
                let end = item.is_none();
                if let Some(item) = item {
                    size += item.source.as_ref().map_or(0, |s| s.len());
                    batch.push(item);
                }
                if (end && !batch.is_empty()) || size >= options.batch_bytes || batch.len() >= 100_000 {
                    let unsynced = self.commit_unsynced(std::mem::take(&mut batch), index, None)?;
                    size = 0;
                    if end && pipeline.is_none() {
                        on_batch(self.await_durable(unsynced))?;
                        break;
                    }
                    if pipeline.is_none() {
                        let (to_sync, synced) = std::sync::mpsc::sync_channel::<Unsynced>(1);
                        let (to_report, reported) = std::sync::mpsc::channel::<Vec<ItemResult>>();
                        std::thread::Builder::new()
                            .name("saker-ingest-sync".into())
                            .spawn_scoped(scope, move || {
                                for batch in synced {
                                    if to_report.send(self.await_durable(batch)).is_err() {
                                        break;
                                    }
                                }
                            })
                            .map_err(StoreError::io("starting the log sync thread"))?;
                        pipeline = Some((to_sync, reported));
                    }
                    if let Some((to_sync, reported)) = &pipeline {
                        if to_sync.send(unsynced).is_err() {
                            return Err(StoreError::Internal("the log sync thread stopped".into()));
                        }
                        while let Ok(results) = reported.try_recv() {
                            on_batch(results)?;
                        }
                    }
                }
                if end {
                    break;
                }
            }
            if let Some((to_sync, reported)) = pipeline {
                drop(to_sync);
                for results in reported {
                    on_batch(results)?;
                }
            }
            Ok(())
        })
    }

    /// Checks, logs and buffers one batch; returns once its documents are durable. With
    /// `expected`, each document must replace one with the version given for its `_id`.
    fn commit(
        &self,
        raws: Vec<RawItem>,
        default_index: Option<&str>,
        expected: Option<&HashMap<String, u64>>,
    ) -> Result<Vec<ItemResult>, StoreError> {
        let unsynced = self.commit_unsynced(raws, default_index, expected)?;
        Ok(self.await_durable(unsynced))
    }

    /// The results of a batch once its log record is durable: every stored document's result
    /// becomes an error when the log failed.
    fn await_durable(&self, batch: Unsynced) -> Vec<ItemResult> {
        let mut results = batch.results;
        if let Some(seq) = batch.seq
            && let Err(e) = self.inner.wal.wait_durable(seq)
        {
            for r in results.iter_mut().filter(|r| r.result.is_ok()) {
                r.result = Err(DocumentError::store(&e));
            }
        }
        results
    }

    /// Checks, logs and buffers one batch; its results count once [`Store::await_durable`]
    /// says so. With `expected`, each document must replace one with the version given for its
    /// `_id`.
    ///
    /// A record that replaces documents is made durable before it is applied, under the state
    /// lock: queries see the old version until the new one is acknowledged, then only the new
    /// one, never neither.
    fn commit_unsynced(
        &self,
        raws: Vec<RawItem>,
        default_index: Option<&str>,
        expected: Option<&HashMap<String, u64>>,
    ) -> Result<Unsynced, StoreError> {
        let inner = &*self.inner;
        let mut results = Vec::with_capacity(raws.len());
        let mut prepared: Vec<Prepared> = Vec::new();
        let mut names = Names::default();
        // the few index names of a batch found valid
        let mut valid = Vec::new();
        for raw in raws {
            let item = results.len();
            let (result, doc) = ingest::prepare(raw, default_index, item, &mut names, &mut valid);
            results.push(result);
            prepared.extend(doc);
        }
        if prepared.is_empty() {
            return Ok(Unsynced { results, seq: None });
        }
        // group by index, keeping the input order within each
        let mut groups: Vec<(String, Vec<Prepared>)> = Vec::new();
        let mut positions: HashMap<String, usize> = HashMap::new();
        let mut last = usize::MAX;
        for doc in prepared {
            // documents mostly come in runs of one index
            let pos = match groups.get(last) {
                Some((name, _)) if *name == doc.index => last,
                _ => *positions.entry(doc.index.clone()).or_insert_with(|| {
                    groups.push((doc.index.clone(), Vec::new()));
                    groups.len() - 1
                }),
            };
            last = pos;
            groups[pos].1.push(doc);
        }
        let mut state = lock(&inner.state);
        let synced = inner.wal.synced_seq();
        let mut entries: Vec<(RecordEntry, Vec<Prepared>)> = Vec::new();
        let mut created: Vec<String> = Vec::new();
        let mut creations: HashMap<String, Vec<(String, FieldMapping)>> = HashMap::new();
        // items stored and replaced within this batch: they share the fate of its record
        let mut superseded: Vec<usize> = Vec::new();
        for (name, docs) in groups {
            if !state.indices.contains_key(&name) {
                let dir = inner.dir.join("indices").join(&name);
                let (settings, fields) = state.templates.resolve(&name);
                let mut index = IndexState::with_settings(&name, dir, settings);
                // the template's fields are mapped before the first document is checked
                index
                    .apply(0, &[], &fields, &Names::default(), Vec::new())
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                state.indices.insert(name.clone(), index);
                creations.insert(name.clone(), fields);
                created.push(name.clone());
            }
            let index = state.indices.get_mut(&name).ok_or_else(|| StoreError::Internal("index vanished".into()))?;
            if index.ids.is_none() && docs.iter().any(|d| d.id.is_some()) {
                match load_ids(index) {
                    Ok(ids) => index.ids = Some(ids),
                    Err(e) => {
                        for doc in &docs {
                            results[doc.item].result = Err(DocumentError::store(&e));
                        }
                        continue;
                    }
                }
            }
            let known = ingest::known(index, &names);
            let mut pending = Pending::default();
            let mut accepted: Vec<Prepared> = Vec::new();
            let mut replaces: Vec<(String, u64)> = Vec::new();
            let mut batch_ids: HashSet<String> = HashSet::new();
            for doc in docs {
                let wanted = expected.and_then(|e| doc.id.as_ref().and_then(|id| e.get(id)).copied());
                match ingest::check(index, &names, &known, &doc, &mut pending, wanted) {
                    Ok(version) => {
                        results[doc.item].result = Ok(version);
                        if let Some(id) = &doc.id {
                            if !batch_ids.insert(id.clone()) {
                                // a document of this batch replaced by a later one is not stored
                                if let Some(at) = accepted.iter().position(|d| d.id.as_ref() == Some(id)) {
                                    superseded.push(accepted.remove(at).item);
                                }
                                replaces.retain(|(r, _)| r != id);
                            }
                            if version > 1 {
                                replaces.push((id.clone(), version));
                            }
                        }
                        accepted.push(doc);
                    }
                    Err(e) => results[doc.item].result = Err(e),
                }
            }
            if accepted.is_empty() {
                continue;
            }
            let max_fields = index.settings.total_fields_limit.unwrap_or(inner.options.max_fields);
            let mut changes =
                ingest::mapping_changes(&names, &known, &accepted, &pending, index.mapping.fields.len(), max_fields);
            drop(known);
            let docs = accepted.iter_mut().map(|d| (d.id.clone(), std::mem::take(&mut d.source))).collect();
            // a record that creates the index carries its settings and its template's fields
            let settings = creations.remove(&name).map(|fields| {
                changes.splice(0..0, fields);
                index.settings.clone()
            });
            entries.push((RecordEntry { index: name, changes, docs, settings, replaces }, accepted));
        }
        let remove_unused = |state: &mut State, entries: &[(RecordEntry, Vec<Prepared>)]| {
            for name in &created {
                if !entries.iter().any(|(e, _)| &e.index == name) {
                    state.indices.remove(name);
                }
            }
        };
        remove_unused(&mut state, &entries);
        if entries.is_empty() {
            return Ok(Unsynced { results, seq: None });
        }
        let seq = state.next_seq;
        let payload = ingest::encode_record(entries.iter().map(|(e, _)| e));
        let fail = |results: &mut Vec<ItemResult>, entries: &[(RecordEntry, Vec<Prepared>)], e: &StoreError| {
            for (_, docs) in entries {
                for doc in docs {
                    results[doc.item].result = Err(DocumentError::store(e));
                }
            }
            for &item in &superseded {
                results[item].result = Err(DocumentError::store(e));
            }
        };
        if let Err(e) = inner.wal.append(seq, payload) {
            fail(&mut results, &entries, &e);
            remove_unused(&mut state, &[]);
            return Ok(Unsynced { results, seq: None });
        }
        state.next_seq += 1;
        let replacing = entries.iter().any(|(e, _)| !e.replaces.is_empty());
        if replacing && let Err(e) = inner.wal.wait_durable(seq) {
            // not applied: whether the record survives is decided when the log is next replayed
            fail(&mut results, &entries, &e);
            remove_unused(&mut state, &[]);
            return Ok(Unsynced { results, seq: None });
        }
        let mut ordinal = 0u32;
        let mut added_bytes = 0;
        for (entry, docs) in entries.iter_mut() {
            let index =
                state.indices.get_mut(&entry.index).ok_or_else(|| StoreError::Internal("index vanished".into()))?;
            let mut new_docs = Vec::with_capacity(docs.len());
            for doc in docs.drain(..) {
                let id = doc.id.unwrap_or_else(|| ingest::generated_id(seq, ordinal, inner.nonce));
                ordinal += 1;
                results[doc.item].id = Some(id.clone());
                new_docs.push(NewDoc { id, doc: doc.doc });
            }
            let before = index.buffer_bytes();
            index
                .apply(seq, &entry.replaces, &entry.changes, &names, new_docs)
                .map_err(|e| StoreError::Internal(format!("building a buffer batch for {}: {e}", entry.index)))?;
            index
                .compact_buffer(synced)
                .map_err(|e| StoreError::Internal(format!("merging buffer batches of {}: {e}", entry.index)))?;
            added_bytes += index.buffer_bytes().saturating_sub(before);
        }
        state.buffered_bytes += added_bytes;
        let full = state.buffered_bytes >= inner.options.flush_bytes;
        // writers faster than the flusher wait for it: the buffer stays within a few flushes
        let overfull = state.buffered_bytes >= inner.options.flush_bytes.saturating_mul(2);
        drop(state);
        if full {
            if self.flusher.is_some() {
                if overfull {
                    // the flush in progress, if any, is done once its lock is free
                    drop(lock(&inner.flush_lock));
                }
                let mut signal = lock(&inner.signal);
                signal.wanted = true;
                inner.signal_cond.notify_all();
            } else {
                inner.flush()?;
            }
        }
        Ok(Unsynced { results, seq: Some(seq) })
    }

    /// Writes every buffered document to Parquet segments and drops the log records they came
    /// from. Queries see the documents throughout.
    ///
    /// # Errors
    /// When a segment, mapping or manifest cannot be written; the documents stay in the buffer
    /// and the log, and the next flush tries again.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }

    /// Every index with its document count, size and time range, sorted by name.
    pub fn indices(&self) -> Vec<IndexStats> {
        let state = lock(&self.inner.state);
        let synced = self.inner.wal.synced_seq();
        state
            .indices
            .values()
            .map(|index| {
                let batches = index.visible_batches(synced);
                let buffered_docs: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
                let segment_docs: u64 = index.segments().iter().map(|s| s.rows).sum();
                let mut min_time = index.segments().iter().filter_map(|s| s.min_time).min();
                let mut max_time = index.segments().iter().filter_map(|s| s.max_time).max();
                for batch in &batches {
                    let (lo, hi) = segment::time_range(batch);
                    min_time = match (min_time, lo) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    max_time = match (max_time, hi) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                }
                let bytes = index.segments().iter().map(|s| s.bytes).sum::<u64>()
                    + batches.iter().map(|b| b.get_array_memory_size() as u64).sum::<u64>();
                IndexStats {
                    name: index.name.clone(),
                    data_stream: index.settings.data_stream,
                    hidden: index.name.starts_with('.'),
                    docs: segment_docs + buffered_docs,
                    buffered_docs,
                    bytes,
                    segments: index.segments().len(),
                    min_time,
                    max_time,
                }
            })
            .collect()
    }

    /// The index `name` as of now, if it exists.
    pub fn snapshot(&self, name: &str) -> Option<IndexSnapshot> {
        let state = lock(&self.inner.state);
        let index = state.indices.get(name)?;
        Some(snapshot_of(index, self.inner.wal.synced_seq()))
    }

    /// Updates documents of the index `index` as Elasticsearch's partial `update` with `doc`
    /// does: each `(id, fields)` sets those fields (dotted names; an object value is merged into
    /// the document's object of that name, any other value replaces the field's values, `null`
    /// removes them) and keeps the document's other fields. The updated document replaces the
    /// old one (its `_version` goes up by one), as an `index` action would. Returns how many
    /// documents were updated: ids without a document are skipped, as is a missing index.
    /// Durable and searchable when this returns.
    ///
    /// The document is rebuilt from its stored fields: values dropped as malformed (named in
    /// `_ignored`) and values of fields ES|QL cannot read are not kept.
    ///
    /// # Errors
    /// [`StoreError::Refused`] when an updated document is refused (a data stream, whose
    /// documents cannot be replaced, or a value its field's mapping refuses; the call's other
    /// updates are kept), or when the store fails.
    pub fn update_documents(
        &self,
        index: &str,
        updates: Vec<(String, serde_json::Map<String, serde_json::Value>)>,
    ) -> Result<usize, StoreError> {
        // several updates of one document apply in order
        let mut merged: Vec<(String, serde_json::Map<String, serde_json::Value>)> = Vec::new();
        for (id, fields) in updates {
            match merged.iter_mut().find(|(m, _)| *m == id) {
                Some((_, existing)) => existing.extend(fields),
                None => merged.push((id, fields)),
            }
        }
        let mut updated = 0;
        // a document replaced meanwhile by another writer is read again
        const ATTEMPTS: usize = 5;
        for attempt in 1..=ATTEMPTS {
            if merged.is_empty() {
                break;
            }
            let ids: Vec<String> = merged.iter().map(|(id, _)| id.clone()).collect();
            let current = self.read_documents(index, &ids)?;
            let mut raws = Vec::new();
            let mut expected = HashMap::new();
            let mut asked: Vec<(String, serde_json::Map<String, serde_json::Value>)> = Vec::new();
            for (id, fields) in merged {
                let Some((version, mut doc)) = current.get(&id).cloned() else { continue };
                apply_update(&mut doc, &fields);
                let source = serde_json::to_vec(&serde_json::Value::Object(doc))
                    .map_err(|e| StoreError::Internal(format!("serialising an updated document: {e}")))?;
                raws.push(RawItem {
                    line: raws.len() + 1,
                    op: Op::Index,
                    index: Some(index.to_string()),
                    id: Some(id.clone()),
                    source: Ok(source.into()),
                });
                expected.insert(id.clone(), version);
                asked.push((id, fields));
            }
            merged = Vec::new();
            if raws.is_empty() {
                break;
            }
            let results = self.commit(raws, Some(index), Some(&expected))?;
            for (item, (id, fields)) in results.into_iter().zip(asked) {
                match item.result {
                    Ok(_) => updated += 1,
                    Err(e) if e.status == 409 && attempt < ATTEMPTS => merged.push((id, fields)),
                    Err(error) => return Err(StoreError::Refused { id, error }),
                }
            }
        }
        Ok(updated)
    }

    /// The current version and fields (dotted names) of the documents `ids` of the index
    /// `index` that exist and are searchable.
    fn read_documents(&self, index: &str, ids: &[String]) -> Result<HashMap<String, CurrentDocument>, StoreError> {
        let (snapshot, mapping, versions) = {
            let mut state = lock(&self.inner.state);
            let Some(state_index) = state.indices.get_mut(index) else { return Ok(HashMap::new()) };
            if state_index.ids.is_none() {
                state_index.ids = Some(load_ids(state_index)?);
            }
            let known = state_index.ids.as_ref();
            let wanted: Vec<&String> = ids.iter().filter(|id| known.is_some_and(|k| k.contains(*id))).collect();
            if wanted.is_empty() {
                return Ok(HashMap::new());
            }
            let versions: HashMap<String, u64> =
                wanted.iter().map(|id| ((*id).clone(), state_index.version_of(id))).collect();
            (snapshot_of(state_index, self.inner.wal.synced_seq()), state_index.mapping.clone(), versions)
        };
        let mut found: HashMap<String, CurrentDocument> = HashMap::new();
        let take =
            |found: &mut HashMap<String, CurrentDocument>, batch: &RecordBatch, dead: Option<&HashSet<String>>| {
                let Some(column) =
                    batch.column_by_name(mapping::ID_FIELD).and_then(|c| c.as_any().downcast_ref::<StringArray>())
                else {
                    return;
                };
                for (row, id) in column.iter().enumerate() {
                    let Some(id) = id else { continue };
                    let Some(&version) = versions.get(id) else { continue };
                    if dead.is_some_and(|d| d.contains(id)) || found.contains_key(id) {
                        continue;
                    }
                    found.insert(id.to_string(), (version, row_fields(&batch.slice(row, 1), &mapping)));
                }
            };
        for batch in &snapshot.batches {
            take(&mut found, batch, None);
        }
        for segment in &snapshot.segments {
            if found.len() == versions.len() {
                break;
            }
            let dead = segment.dead.as_deref();
            let holds = segment::read_ids(&segment.path)?.iter().any(|id| {
                versions.contains_key(id) && !found.contains_key(id) && !dead.is_some_and(|d| d.contains(id))
            });
            if holds {
                for batch in segment::read_segment(&segment.path)? {
                    take(&mut found, &batch, dead);
                }
            }
        }
        Ok(found)
    }

    /// The mapping of the index `name`.
    pub fn mapping(&self, name: &str) -> Option<Mapping> {
        lock(&self.inner.state).indices.get(name).map(|i| i.mapping.clone())
    }

    /// The settings of the index `name`.
    pub fn index_settings(&self, name: &str) -> Option<IndexSettings> {
        lock(&self.inner.state).indices.get(name).map(|i| i.settings.clone())
    }

    /// The retention an index applies now: its lifecycle's, or the store's default for a data
    /// stream (see [`IndexSettings::effective_retention`]).
    pub fn effective_retention(&self, name: &str) -> Option<Duration> {
        let state = lock(&self.inner.state);
        state.indices.get(name)?.settings.effective_retention(self.inner.options.default_retention)
    }

    /// The store's options.
    pub fn options(&self) -> &StoreOptions {
        &self.inner.options
    }

    /// Deletes the index or data stream `name`: its documents (buffered and in segments), its
    /// mapping and settings. Returns `false` when there is no such index.
    ///
    /// The deletion is durable when this returns: a tombstone manifest is written first (it owns
    /// every log record of the index so far, so that replaying the log cannot bring them back),
    /// then the files are removed; segment files still read by running queries go when those
    /// queries end. Documents written to `name` afterwards create a new index.
    ///
    /// # Errors
    /// When the tombstone cannot be written; the index is then left as it was.
    pub fn delete_index(&self, name: &str) -> Result<bool, StoreError> {
        let inner = &*self.inner;
        let _no_flush = inner.lock_for_swap();
        let mut state = lock(&inner.state);
        let Some(index) = state.indices.get(name) else { return Ok(false) };
        let dir = index.dir.clone();
        // every record of the index has a sequence number up to this one
        let seq = state.next_seq.saturating_sub(1);
        std::fs::create_dir_all(&dir).map_err(StoreError::io(format!("creating {}", dir.display())))?;
        if let Some(parent) = dir.parent() {
            wal::sync_dir(parent)?;
        }
        let tombstone = Manifest { format: 1, flushed_seq: seq, deleted: true, ..Manifest::default() };
        segment::write_json(&dir.join(MANIFEST), &tombstone)?;
        let Some(mut index) = state.indices.remove(name) else { return Ok(false) };
        state.buffered_bytes = state.buffered_bytes.saturating_sub(index.buffer_bytes());
        state.tombstones.insert(name.to_string(), seq);
        drop(state);
        index.retire_all();
        drop(index);
        for file in [MAPPING, SETTINGS] {
            match std::fs::remove_file(dir.join(file)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(StoreError::Io {
                        context: format!("removing {}", dir.join(file).display()),
                        source: e,
                    });
                }
            }
        }
        Ok(true)
    }

    /// Every index template, by name.
    pub fn index_templates(&self) -> Vec<IndexTemplate> {
        lock(&self.inner.state).templates.all().cloned().collect()
    }

    /// Adds or replaces the index template `name` from an Elasticsearch `_index_template` body;
    /// with `create`, refuses to replace one. It applies to indices created from now on.
    ///
    /// # Errors
    /// What Elasticsearch refuses, with its error type, and what Saker does not support, named.
    pub fn put_index_template(&self, name: &str, body: &serde_json::Value, create: bool) -> Result<(), TemplateError> {
        let template = IndexTemplate::parse(name, body)?;
        let mut state = lock(&self.inner.state);
        let data_streams: Vec<String> =
            state.indices.values().filter(|i| i.settings.data_stream).map(|i| i.name.clone()).collect();
        let mut templates = state.templates.clone();
        templates.put(template, create, &data_streams)?;
        templates.save(&self.inner.dir.join(TEMPLATES)).map_err(|e| TemplateError::store(&e))?;
        state.templates = templates;
        Ok(())
    }

    /// Removes index templates: `names` is a comma-separated list of names, or one name or
    /// `*`-pattern, as `DELETE _index_template/<names>`. Returns the names removed.
    ///
    /// # Errors
    /// `index_template_missing_exception` (404) for a name that matches nothing; a template that
    /// is the only one a data stream matches stays.
    pub fn delete_index_templates(&self, names: &str) -> Result<Vec<String>, TemplateError> {
        let mut state = lock(&self.inner.state);
        let data_streams: Vec<String> =
            state.indices.values().filter(|i| i.settings.data_stream).map(|i| i.name.clone()).collect();
        let mut templates = state.templates.clone();
        let removed = templates.remove(names, &data_streams)?;
        if !removed.is_empty() {
            templates.save(&self.inner.dir.join(TEMPLATES)).map_err(|e| TemplateError::store(&e))?;
            state.templates = templates;
        }
        Ok(removed)
    }

    /// The settings and template fields an index named `name` would be created with now
    /// (`settings.template` names the template that decides them; `None`: the built-in ones).
    pub fn simulate_index(&self, name: &str) -> (IndexSettings, Vec<(String, mapping::FieldMapping)>) {
        lock(&self.inner.state).templates.resolve(name)
    }

    /// Sets (or, with `None`, removes) the lifecycle of the index `name`: how long it keeps its
    /// documents. Durable when this returns. Returns `false` when there is no such index.
    ///
    /// # Errors
    /// When the log cannot be written.
    pub fn set_lifecycle(&self, name: &str, lifecycle: Option<Lifecycle>) -> Result<bool, StoreError> {
        let inner = &*self.inner;
        let seq = {
            let mut state = lock(&inner.state);
            let seq = state.next_seq;
            let Some(index) = state.indices.get_mut(name) else { return Ok(false) };
            let mut settings = index.settings.clone();
            settings.lifecycle = lifecycle;
            let entry = RecordEntry {
                index: name.to_string(),
                changes: Vec::new(),
                docs: Vec::new(),
                settings: Some(settings.clone()),
                replaces: Vec::new(),
            };
            inner.wal.append(seq, ingest::encode_record(std::iter::once(&entry)))?;
            index.settings = settings;
            index.dirty = true;
            state.next_seq += 1;
            seq
        };
        inner.wal.wait_durable(seq)?;
        Ok(true)
    }

    /// Merges small segments now (see [`StoreOptions::compaction_small_bytes`]); the background
    /// thread does the same every [`StoreOptions::maintenance_interval`].
    ///
    /// # Errors
    /// When a segment cannot be read or written, or a manifest replaced; nothing is lost, the
    /// segments stay as they were.
    pub fn compact(&self) -> Result<CompactionReport, StoreError> {
        self.inner.compact()
    }

    /// Deletes, in every index with a retention, the days that ended more than the retention
    /// before `now_ms` (ms since the epoch); the background thread does the same with the
    /// current time. Buffered documents are not touched until they are flushed.
    ///
    /// # Errors
    /// When a manifest cannot be replaced; the segments then stay.
    pub fn apply_retention(&self, now_ms: i64) -> Result<RetentionReport, StoreError> {
        self.inner.apply_retention(now_ms)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        {
            let mut signal = lock(&self.inner.signal);
            signal.stop = true;
            self.inner.signal_cond.notify_all();
        }
        for handle in [self.flusher.take(), self.maintainer.take()].into_iter().flatten() {
            let _ = handle.join();
        }
        self.inner.wal.tidy();
    }
}

impl Catalog for Store {
    fn index_names(&self) -> Vec<String> {
        lock(&self.inner.state).indices.keys().cloned().collect()
    }

    fn index(&self, name: &str) -> Option<Arc<dyn Index>> {
        self.snapshot(name).map(|s| Arc::new(s) as Arc<dyn Index>)
    }
}

/// The context of errors reading ingest input (as opposed to writing the store).
const INPUT_CONTEXT: &str = "reading the input";

struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A committed batch's results, valid once its log record (`seq`, when it has one) is durable.
struct Unsynced {
    results: Vec<ItemResult>,
    seq: Option<u64>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Inner {
    /// Takes the flush lock to replace manifests, ahead of the flushes waiting for it.
    fn lock_for_swap(&self) -> MutexGuard<'_, ()> {
        self.swaps_waiting.fetch_add(1, Ordering::AcqRel);
        let guard = lock(&self.flush_lock);
        self.swaps_waiting.fetch_sub(1, Ordering::AcqRel);
        guard
    }

    fn flush(&self) -> Result<(), StoreError> {
        // let a waiting swap go first, for a while
        let yield_until = std::time::Instant::now() + Duration::from_millis(200);
        while self.swaps_waiting.load(Ordering::Acquire) > 0 && std::time::Instant::now() < yield_until {
            std::thread::sleep(Duration::from_millis(1));
        }
        let _one_at_a_time = lock(&self.flush_lock);
        // 1. Start a new log file and take every buffer: all their records are in older files.
        let (first_new, last, work) = {
            let mut state = lock(&self.state);
            let first_new = state.next_seq;
            let last = self.wal.rotate(first_new)?;
            let mut work = Vec::new();
            for index in state.indices.values_mut() {
                if index.buffer.is_empty() && !index.dirty {
                    continue;
                }
                index.flushing = std::mem::take(&mut index.buffer);
                index.dirty = false;
                let schema = index.mapping.stored_schema();
                let batches: Vec<_> = index.flushing.iter().map(|b| b.batch.clone()).collect();
                let files = IndexFiles {
                    dir: index.dir.clone(),
                    mapping: index.mapping.clone(),
                    settings: index.settings.clone(),
                    replaced: index.replaced.clone(),
                };
                work.push((index.name.clone(), files, schema, batches));
            }
            state.buffered_bytes = 0;
            (first_new, last, work)
        };
        // 2. Write segments, settings, mapping and manifest of each index, outside the lock.
        let mut failure = None;
        let mut done: Vec<(String, Manifest)> = Vec::new();
        for (name, files, schema, batches) in work {
            let manifest = lock(&self.state).indices.get(&name).map(|i| i.manifest.clone()).unwrap_or_default();
            match write_index(&files, &schema, &batches, manifest, last) {
                Ok(manifest) => done.push((name, manifest)),
                Err(e) => {
                    failure.get_or_insert(e);
                    // back to the buffer, for the next flush
                    let mut state = lock(&self.state);
                    if let Some(index) = state.indices.get_mut(&name) {
                        let mut flushing = std::mem::take(&mut index.flushing);
                        flushing.append(&mut index.buffer);
                        index.buffer = flushing;
                        index.dirty = true;
                    }
                }
            }
        }
        // 3. Queries now read the segments instead of the flushed batches.
        {
            let mut state = lock(&self.state);
            for (name, manifest) in done {
                if let Some(index) = state.indices.get_mut(&name) {
                    index.set_manifest(manifest);
                    index.flushing.clear();
                }
            }
        }
        if let Some(e) = failure {
            *lock(&self.last_flush_error) = Some(e.to_string());
            return Err(e);
        }
        // 4. The older log files are no longer needed, nor the tombstones of indices deleted
        //    before the rotation.
        self.wal.remove_before(first_new)?;
        self.remove_tombstones(first_new)?;
        *lock(&self.last_flush_error) = None;
        Ok(())
    }

    /// Removes the folders of deleted indices whose records are all before `first_kept` (no
    /// longer in the log). A deleted index created again keeps its folder: its own flush has
    /// replaced the tombstone manifest, or will.
    fn remove_tombstones(&self, first_kept: u64) -> Result<(), StoreError> {
        let mut state = lock(&self.state);
        let names: Vec<(String, u64)> = state.tombstones.iter().map(|(n, s)| (n.clone(), *s)).collect();
        for (name, seq) in names {
            if seq >= first_kept {
                continue;
            }
            if let Some(index) = state.indices.get(&name) {
                // created again: the tombstone is gone once the new index's manifest is written
                if index.manifest.flushed_seq > seq {
                    state.tombstones.remove(&name);
                }
                continue;
            }
            let dir = self.dir.join("indices").join(&name);
            remove_index_folder(&dir)?;
            state.tombstones.remove(&name);
        }
        Ok(())
    }
}

/// Removes a deleted index's folder: the manifest first (a folder without one is removed when
/// the store is opened), then the rest.
fn remove_index_folder(dir: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(dir.join(MANIFEST)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(StoreError::Io { context: format!("removing the manifest of {}", dir.display()), source: e });
        }
    }
    if let Some(parent) = dir.parent() {
        wal::sync_dir(dir)?;
        match std::fs::remove_dir_all(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::Io { context: format!("removing {}", dir.display()), source: e }),
        }
        wal::sync_dir(parent)?;
    }
    Ok(())
}

/// What a flush writes of an index besides its segments.
struct IndexFiles {
    dir: PathBuf,
    mapping: Mapping,
    settings: IndexSettings,
    /// The replaced documents as of the flush's last record.
    replaced: BTreeMap<String, segment::Replaced>,
}

/// Writes one index's flushed batches as segments, then its settings and mapping, then its
/// manifest.
fn write_index(
    files: &IndexFiles,
    schema: &esql::datafusion::arrow::datatypes::SchemaRef,
    batches: &[esql::datafusion::arrow::record_batch::RecordBatch],
    mut manifest: Manifest,
    last: u64,
) -> Result<Manifest, StoreError> {
    let dir = &files.dir;
    std::fs::create_dir_all(dir).map_err(StoreError::io(format!("creating {}", dir.display())))?;
    if let Some(parent) = dir.parent() {
        wal::sync_dir(parent)?;
    }
    let internal =
        |e: &dyn std::fmt::Display| StoreError::Internal(format!("preparing a flush of {}: {e}", dir.display()));
    if !batches.is_empty() {
        let conformed = batches
            .iter()
            .map(|b| index::conform(b, schema))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| internal(&e))?;
        let batch = concat_batches(schema, &conformed).map_err(|e| internal(&e))?;
        manifest.segments.extend(segment::write_segments(dir, &batch, last)?);
    }
    segment::write_json(&dir.join(SETTINGS), &files.settings)?;
    segment::write_json(&dir.join(MAPPING), &files.mapping)?;
    manifest.format = 1;
    manifest.flushed_seq = last;
    manifest.deleted = false;
    manifest.replaced = files.replaced.clone();
    segment::write_json(&dir.join(MANIFEST), &manifest)?;
    Ok(manifest)
}

fn flusher_loop(inner: &Inner) {
    let interval = inner.options.flush_interval;
    loop {
        {
            let mut signal = lock(&inner.signal);
            if !signal.stop && !signal.wanted {
                signal = inner
                    .signal_cond
                    .wait_timeout(signal, interval)
                    .map(|(guard, _)| guard)
                    .unwrap_or_else(|poisoned| poisoned.into_inner().0);
            }
            if signal.stop {
                return;
            }
            signal.wanted = false;
        }
        let has_data = {
            let state = lock(&inner.state);
            state.indices.values().any(|i| !i.buffer.is_empty() || i.dirty) || !state.tombstones.is_empty()
        };
        if has_data {
            // the error is kept for `last_flush_error`; the data stays in the log and the buffer
            let _ = inner.flush();
        }
    }
}

fn store_nonce(dir: &Path) -> Result<[u8; 3], StoreError> {
    let path = dir.join("store.json");
    let file: StoreFile = match segment::read_json(&path)? {
        Some(file) => file,
        None => {
            use std::hash::{BuildHasher, Hasher};
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u128(
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
            );
            hasher.write_u32(std::process::id());
            let random = hasher.finish().to_le_bytes();
            let file = StoreFile { format: 1, nonce: format!("{:02x}{:02x}{:02x}", random[0], random[1], random[2]) };
            segment::write_json(&path, &file)?;
            file
        }
    };
    let corrupt = || StoreError::Corrupt { path: path.clone(), message: format!("bad nonce `{}`", file.nonce) };
    let mut nonce = [0u8; 3];
    if file.nonce.len() != 6 {
        return Err(corrupt());
    }
    for (i, byte) in nonce.iter_mut().enumerate() {
        *byte = file.nonce.get(i * 2..i * 2 + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or_else(corrupt)?;
    }
    Ok(nonce)
}

/// Deleted indices by name, with the last log sequence number each owned.
type Tombstones = BTreeMap<String, u64>;

/// The indices of the data folder, and the tombstones of deleted ones (name → the last log
/// sequence number the deleted index owned). Removes what a crash left behind: unlisted segment
/// files, and index folders without a manifest (a first flush that never completed; the log
/// still has its documents).
fn load_indices(dir: &Path) -> Result<(BTreeMap<String, IndexState>, Tombstones), StoreError> {
    let root = dir.join("indices");
    let mut indices = BTreeMap::new();
    let mut tombstones = BTreeMap::new();
    let entries = std::fs::read_dir(&root).map_err(StoreError::io(format!("listing {}", root.display())))?;
    for entry in entries {
        let entry = entry.map_err(StoreError::io(format!("listing {}", root.display())))?;
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
        if !path.is_dir() || names::validate_index_name(&name).is_err() {
            continue;
        }
        let Some(manifest) = segment::read_json::<Manifest>(&path.join(MANIFEST))? else {
            std::fs::remove_dir_all(&path).map_err(StoreError::io(format!("removing {}", path.display())))?;
            continue;
        };
        if manifest.deleted {
            segment::remove_orphans(&path, &manifest)?;
            tombstones.insert(name, manifest.flushed_seq);
            continue;
        }
        let settings =
            segment::read_json::<IndexSettings>(&path.join(SETTINGS))?.unwrap_or_else(|| IndexSettings::builtin(&name));
        let mut index = IndexState::with_settings(&name, path.clone(), settings);
        if let Some(mapping) = segment::read_json::<Mapping>(&path.join(MAPPING))? {
            index.mapping = mapping;
            index.objects = index.mapping.object_paths();
        }
        segment::remove_orphans(&path, &manifest)?;
        index.replaced = manifest.replaced.clone();
        index.set_manifest(manifest);
        indices.insert(name, index);
    }
    Ok((indices, tombstones))
}

/// Replays the log into the indices' buffers; returns the next sequence number.
fn replay(
    dir: &Path,
    indices: &mut BTreeMap<String, IndexState>,
    tombstones: &BTreeMap<String, u64>,
    nonce: [u8; 3],
) -> Result<(u64, Recovery), StoreError> {
    let wal_dir = dir.join("wal");
    let contents = wal::read_all(&wal_dir)?;
    let mut recovery = Recovery {
        records: contents.records.len(),
        torn_bytes: contents.torn.iter().map(|(_, n)| n).sum(),
        ..Recovery::default()
    };
    let mut last =
        indices.values().map(|i| i.manifest.flushed_seq).chain(tombstones.values().copied()).max().unwrap_or(0);
    let corrupt = |message: String| StoreError::Corrupt { path: wal_dir.clone(), message };
    let mut seen = HashSet::new();
    for record in contents.records {
        if !seen.insert(record.seq) {
            return Err(corrupt(format!("record {} appears twice", record.seq)));
        }
        last = last.max(record.seq);
        let entries =
            ingest::decode_record(&record.payload).map_err(|e| corrupt(format!("record {}: {e}", record.seq)))?;
        let mut ordinal = 0u32;
        for entry in entries {
            if names::validate_index_name(&entry.index).is_err() {
                return Err(corrupt(format!("record {}: bad index name `{}`", record.seq, entry.index)));
            }
            // a record of an index deleted since: the tombstone owns it
            let deleted = !indices.contains_key(&entry.index)
                && tombstones.get(&entry.index).is_some_and(|&seq| record.seq <= seq);
            if deleted {
                ordinal += entry.docs.len() as u32;
                continue;
            }
            let index = indices.entry(entry.index.clone()).or_insert_with(|| {
                let settings = entry.settings.clone().unwrap_or_else(|| IndexSettings::builtin(&entry.index));
                IndexState::with_settings(&entry.index, dir.join("indices").join(&entry.index), settings)
            });
            let flushed = record.seq <= index.manifest.flushed_seq;
            if !flushed && let Some(settings) = &entry.settings {
                index.settings = settings.clone();
                index.dirty = true;
            }
            let mut docs = Vec::new();
            let mut doc_names = Names::default();
            for (id, source) in entry.docs {
                let id = id.unwrap_or_else(|| ingest::generated_id(record.seq, ordinal, nonce));
                ordinal += 1;
                if flushed {
                    continue;
                }
                let doc = ingest::parse_document(&source, &mut doc_names, Duplicates::Keep)
                    .map_err(|e| corrupt(format!("record {}: a document no longer parses: {e}", record.seq)))?;
                docs.push(NewDoc { id, doc });
            }
            recovery.documents += docs.len();
            if flushed {
                continue;
            }
            index
                .apply(record.seq, &entry.replaces, &entry.changes, &doc_names, docs)
                .map_err(|e| StoreError::Internal(format!("replaying record {}: {e}", record.seq)))?;
        }
    }
    Ok((last + 1, recovery))
}

/// A document as an update reads it: its version and its fields by dotted name.
type CurrentDocument = (u64, serde_json::Map<String, serde_json::Value>);

/// The index as queries see it now (`synced`: the last durable log record).
fn snapshot_of(index: &IndexState, synced: u64) -> IndexSnapshot {
    let dead = dead_sets(index);
    IndexSnapshot {
        name: index.name.clone(),
        fields: index.mapping.field_infos(),
        schema: index.mapping.table_schema(),
        constants: Arc::new(index.mapping.constants()),
        segments: index
            .segments()
            .iter()
            .zip(dead)
            .map(|(meta, dead)| SegmentFile {
                path: index.dir.join(&meta.path),
                meta: meta.clone(),
                _lease: index
                    .leases
                    .get(&meta.path)
                    .cloned()
                    .unwrap_or_else(|| Arc::new(segment::SegmentLease::new(index.dir.join(&meta.path)))),
                dead,
            })
            .collect(),
        batches: index.visible_batches(synced),
    }
}

/// For each segment of the index, the `_id`s whose rows in it are older versions: those replaced
/// by a record after the segment's `max_seq`. Segments with the same set share it.
fn dead_sets(index: &IndexState) -> Vec<Option<Arc<HashSet<String>>>> {
    if index.replaced.is_empty() {
        return vec![None; index.segments().len()];
    }
    let mut by_seq: Vec<(u64, &str)> = index.replaced.iter().map(|(id, r)| (r.seq, id.as_str())).collect();
    by_seq.sort_unstable();
    let mut shared: HashMap<usize, Arc<HashSet<String>>> = HashMap::new();
    index
        .segments()
        .iter()
        .map(|meta| {
            let from = by_seq.partition_point(|(seq, _)| *seq <= meta.max_seq);
            if from == by_seq.len() {
                return None;
            }
            let set = shared
                .entry(from)
                .or_insert_with(|| Arc::new(by_seq[from..].iter().map(|(_, id)| id.to_string()).collect()));
            Some(set.clone())
        })
        .collect()
}

/// A stored row (a one-row batch) as a document: its fields by dotted name, without `_id` and
/// `_ignored`; several values as an array.
fn row_fields(row: &RecordBatch, mapping: &Mapping) -> serde_json::Map<String, serde_json::Value> {
    let mut doc = serde_json::Map::new();
    let schema = row.schema();
    for (field, array) in schema.fields().iter().zip(row.columns()) {
        let name = field.name();
        if name == mapping::ID_FIELD || name == mapping::IGNORED_FIELD {
            continue;
        }
        let Some(es_type) = mapping.fields.get(name).map(FieldMapping::es_type) else { continue };
        let value = esql::render::column_cells(array, es_type).first().map(esql::render::Cell::to_json);
        if let Some(value) = value.filter(|v| !v.is_null()) {
            doc.insert(name.clone(), value);
        }
    }
    doc
}

/// Applies a partial update's fields (dotted names) to a document's fields (dotted names): an
/// object is merged into the fields under its name, any other value replaces the field (and
/// whatever was under its name), `null` removes it.
fn apply_update(
    doc: &mut serde_json::Map<String, serde_json::Value>,
    fields: &serde_json::Map<String, serde_json::Value>,
) {
    for (name, value) in fields {
        match value {
            serde_json::Value::Object(object) => {
                let nested: serde_json::Map<String, serde_json::Value> =
                    object.iter().map(|(k, v)| (format!("{name}.{k}"), v.clone())).collect();
                // a value where the object goes is replaced by it
                doc.remove(name);
                apply_update(doc, &nested);
            }
            other => {
                let prefix = format!("{name}.");
                doc.retain(|k, _| k != name && !k.starts_with(&prefix));
                if !other.is_null() {
                    doc.insert(name.clone(), other.clone());
                }
            }
        }
    }
}

/// Every `_id` of an index: buffer and segments.
fn load_ids(index: &IndexState) -> Result<HashSet<String>, StoreError> {
    let mut ids = HashSet::new();
    for b in index.flushing.iter().chain(&index.buffer) {
        if let Some(column) = b.batch.column_by_name(mapping::ID_FIELD)
            && let Some(strings) = column.as_any().downcast_ref::<StringArray>()
        {
            ids.extend(strings.iter().flatten().map(str::to_string));
        }
    }
    for meta in index.segments() {
        ids.extend(segment::read_ids(&index.dir.join(&meta.path))?);
    }
    Ok(ids)
}
