//! Parquet segments and the manifest that lists them.
//!
//! A flush writes an index's buffered rows, sorted by `@timestamp`, as one segment per day at
//! `segments/<YYYY-MM-DD>/<flush seq>-<n>.parquet` (`segments/undated/…` for rows without a
//! time), zstd-compressed, with dictionary encoding and page statistics. The manifest
//! (`manifest.json`) lists the segments with their row counts and time ranges, and the last log
//! sequence number whose records they hold; it is replaced atomically (write, fsync, rename,
//! fsync the folder).

use crate::error::StoreError;
use crate::mapping::ID_FIELD;
use crate::wal::sync_dir;
use esql::datafusion::arrow::array::{Array, ArrayRef, TimestampMillisecondArray};
use esql::datafusion::arrow::compute::{SortOptions, sort_to_indices, take_record_batch};
use esql::datafusion::arrow::datatypes::{DataType, TimeUnit};
use esql::datafusion::arrow::record_batch::RecordBatch;
use esql::datafusion::parquet::arrow::ArrowWriter;
use esql::datafusion::parquet::basic::{Compression, ZstdLevel};
use esql::datafusion::parquet::file::metadata::SortingColumn;
use esql::datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use esql::datafusion::parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The time field segments are sorted and partitioned by.
pub const TIME_FIELD: &str = "@timestamp";

/// The manifest's file name in an index folder.
pub const MANIFEST: &str = "manifest.json";

/// The mapping's file name in an index folder.
pub const MAPPING: &str = "mapping.json";

const MS_PER_DAY: i64 = 86_400_000;

/// The zstd level of the segments a flush writes: quick, since a flush keeps pace with ingest.
pub(crate) const FLUSH_LEVEL: i32 = 1;

/// The zstd level of the segments a merge writes, in the background: smaller files.
pub(crate) const MERGE_LEVEL: i32 = 3;

/// One segment as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentMeta {
    /// The file, relative to the index folder (`segments/2024-05-01/…parquet`).
    pub path: String,
    /// Number of documents.
    pub rows: u64,
    /// File size in bytes.
    pub bytes: u64,
    /// Smallest `@timestamp` (ms since the epoch), if any row has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_time: Option<i64>,
    /// Largest `@timestamp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_time: Option<i64>,
    /// No row of the segment comes from a log record after this sequence number (the flush's
    /// last record; a merge's largest input's). A document replaced by a later record is dead
    /// in this segment (see [`Manifest::replaced`]). 0 in segments written before documents
    /// could be replaced.
    #[serde(default)]
    pub max_seq: u64,
}

/// The latest replacement of a document (an `index` action whose `_id` existed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replaced {
    /// The log record that replaced it: rows of this `_id` in segments whose
    /// [`SegmentMeta::max_seq`] is below it are older versions, never read.
    pub seq: u64,
    /// Its `_version` since.
    pub version: u64,
}

/// The segments of an index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version (1).
    pub format: u32,
    /// Every log record up to this sequence number is in the segments (for this index).
    pub flushed_seq: u64,
    /// The segments, oldest first.
    pub segments: Vec<SegmentMeta>,
    /// The index was deleted: every log record up to `flushed_seq` belongs to the deleted index,
    /// and the folder is removed once the log no longer holds them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The documents replaced up to `flushed_seq`, by `_id`. Kept for good: it also holds their
    /// versions.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub replaced: std::collections::BTreeMap<String, Replaced>,
}

/// A segment file shared by the index that lists it and the queries that read it. Once
/// [retired](SegmentLease::retire) (no longer listed), the file is removed when the last holder
/// lets go; a crash before that leaves an unlisted file, removed when the store is next opened.
#[derive(Debug)]
pub(crate) struct SegmentLease {
    path: PathBuf,
    retired: AtomicBool,
}

impl SegmentLease {
    pub fn new(path: PathBuf) -> SegmentLease {
        SegmentLease { path, retired: AtomicBool::new(false) }
    }

    /// The segment is no longer listed: remove its file once unused.
    pub fn retire(&self) {
        self.retired.store(true, Ordering::Release);
    }
}

impl Drop for SegmentLease {
    fn drop(&mut self) {
        if self.retired.load(Ordering::Acquire) {
            // a failure leaves an orphan, removed when the store is next opened
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file, fsync, rename over `path`, fsync of
/// the folder.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().ok_or_else(|| StoreError::Internal(format!("{} has no folder", path.display())))?;
    let tmp = path.with_extension("tmp");
    let context = || format!("writing {}", tmp.display());
    let mut file = File::create(&tmp).map_err(StoreError::io(context()))?;
    file.write_all(bytes).map_err(StoreError::io(context()))?;
    file.sync_all().map_err(StoreError::io(context()))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(StoreError::io(format!("renaming {} to {}", tmp.display(), path.display())))?;
    sync_dir(dir)
}

/// Reads a JSON file of the index folder, `None` when it does not exist.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, StoreError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::Io { context: format!("reading {}", path.display()), source: e }),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| StoreError::Corrupt { path: path.to_path_buf(), message: e.to_string() })
}

/// Writes `value` as pretty JSON, atomically.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| StoreError::Internal(format!("serialising {}: {e}", path.display())))?;
    write_atomic(path, &bytes)
}

/// The `@timestamp` column of a stored batch, when it is a single-valued date.
fn time_column(batch: &RecordBatch) -> Option<&TimestampMillisecondArray> {
    let column = batch.column_by_name(TIME_FIELD)?;
    if column.data_type() != &DataType::Timestamp(TimeUnit::Millisecond, None) {
        return None;
    }
    column.as_any().downcast_ref::<TimestampMillisecondArray>()
}

/// The smallest and largest `@timestamp` of a batch.
pub(crate) fn time_range(batch: &RecordBatch) -> (Option<i64>, Option<i64>) {
    let Some(times) = time_column(batch) else { return (None, None) };
    let mut range: (Option<i64>, Option<i64>) = (None, None);
    for t in times.iter().flatten() {
        range.0 = Some(range.0.map_or(t, |m| m.min(t)));
        range.1 = Some(range.1.map_or(t, |m| m.max(t)));
    }
    range
}

/// The partition (`YYYY-MM-DD`, or `undated`) of rows with this `@timestamp`.
pub(crate) fn day_name(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "undated".to_string())
}

/// True when the times ascend, nulls last.
fn is_sorted(mut times: impl Iterator<Item = Option<i64>>) -> bool {
    let mut last = i64::MIN;
    for t in times.by_ref() {
        match t {
            Some(t) if t >= last => last = t,
            Some(_) => return false,
            None => return times.all(|t| t.is_none()),
        }
    }
    true
}

/// Writes `batch` (in the stored schema) as segments under `index_dir`, one per day, each file
/// made durable before this returns.
pub(crate) fn write_segments(index_dir: &Path, batch: &RecordBatch, seq: u64) -> Result<Vec<SegmentMeta>, StoreError> {
    if batch.num_rows() == 0 {
        return Ok(Vec::new());
    }
    let internal = |e: &dyn std::fmt::Display| StoreError::Internal(format!("sorting a flush by time: {e}"));
    let sorted = match time_column(batch) {
        // already in time order (as logs mostly come): nothing to move
        Some(times) if is_sorted(times.iter()) => batch.clone(),
        Some(times) => {
            let options = SortOptions { descending: false, nulls_first: false };
            let indices = sort_to_indices(times, Some(options), None).map_err(|e| internal(&e))?;
            take_record_batch(batch, &indices).map_err(|e| internal(&e))?
        }
        None => batch.clone(),
    };
    // rows of one day are contiguous once sorted
    let days: Vec<Option<i64>> = match time_column(&sorted) {
        Some(times) => times.iter().map(|t| t.map(|t| t.div_euclid(MS_PER_DAY))).collect(),
        None => vec![None; sorted.num_rows()],
    };
    let mut out = Vec::new();
    let mut start = 0;
    while start < days.len() {
        let day = days[start];
        let end = start + days[start..].iter().take_while(|d| **d == day).count();
        let part = sorted.slice(start, end - start);
        let rel = format!("segments/{}/{seq:020}-{}.parquet", day_name(day.map(|d| d * MS_PER_DAY)), out.len());
        let meta = write_segment(index_dir, &rel, &part, seq, FLUSH_LEVEL)?;
        out.push(meta);
        start = end;
    }
    Ok(out)
}

/// Writes `batch` as the segment `rel` (relative to `index_dir`), durable when this returns.
/// `max_seq` bounds the log records its rows come from (see [`SegmentMeta::max_seq`]).
pub(crate) fn write_segment(
    index_dir: &Path,
    rel: &str,
    batch: &RecordBatch,
    max_seq: u64,
    level: i32,
) -> Result<SegmentMeta, StoreError> {
    let path = index_dir.join(rel);
    let dir = path.parent().ok_or_else(|| StoreError::Internal(format!("{} has no folder", path.display())))?;
    std::fs::create_dir_all(dir).map_err(StoreError::io(format!("creating {}", dir.display())))?;
    let tmp = path.with_extension("parquet.tmp");
    let segment_error = |message: String| StoreError::Segment { path: path.clone(), message };
    let sorting = batch
        .schema()
        .index_of(TIME_FIELD)
        .ok()
        .map(|i| vec![SortingColumn { column_idx: i as i32, descending: false, nulls_first: false }]);
    let zstd = ZstdLevel::try_new(level).map_err(|e| segment_error(e.to_string()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(zstd))
        .set_dictionary_enabled(true)
        // every `_id` differs: a dictionary would only be built to be dropped
        .set_column_dictionary_enabled(ColumnPath::from(ID_FIELD), false)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(128 * 1024))
        .set_sorting_columns(sorting)
        .build();
    let file = File::create(&tmp).map_err(StoreError::io(format!("creating {}", tmp.display())))?;
    let mut writer =
        ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(|e| segment_error(e.to_string()))?;
    writer.write(batch).map_err(|e| segment_error(e.to_string()))?;
    let file = writer.into_inner().map_err(|e| segment_error(e.to_string()))?;
    file.sync_all().map_err(StoreError::io(format!("syncing {}", tmp.display())))?;
    let bytes = file.metadata().map_err(StoreError::io(format!("reading {}", tmp.display())))?.len();
    drop(file);
    std::fs::rename(&tmp, &path).map_err(StoreError::io(format!(
        "renaming {} to {}",
        tmp.display(),
        path.display()
    )))?;
    sync_dir(dir)?;
    if let Some(segments) = dir.parent() {
        sync_dir(segments)?;
    }
    let (min_time, max_time) = time_range(batch);
    Ok(SegmentMeta { path: rel.to_string(), rows: batch.num_rows() as u64, bytes, min_time, max_time, max_seq })
}

/// Removes files under `segments/` that the manifest does not list (left by a crash between
/// writing a segment and updating the manifest) and empty day folders.
pub(crate) fn remove_orphans(index_dir: &Path, manifest: &Manifest) -> Result<(), StoreError> {
    let root = index_dir.join("segments");
    let Ok(days) = std::fs::read_dir(&root) else { return Ok(()) };
    let listed: std::collections::HashSet<PathBuf> =
        manifest.segments.iter().map(|s| index_dir.join(&s.path)).collect();
    for day in days.flatten() {
        let day_path = day.path();
        let Ok(files) = std::fs::read_dir(&day_path) else { continue };
        for file in files.flatten() {
            let path = file.path();
            if !listed.contains(&path) {
                std::fs::remove_file(&path).map_err(StoreError::io(format!("removing {}", path.display())))?;
            }
        }
        // only succeeds when empty
        let _ = std::fs::remove_dir(&day_path);
    }
    Ok(())
}

/// A column of `rows` copies of `array`'s type, all null.
pub(crate) fn null_column(array_type: &DataType, rows: usize) -> ArrayRef {
    esql::datafusion::arrow::array::new_null_array(array_type, rows)
}

/// Every row of a segment, in its own schema.
pub(crate) fn read_segment(path: &Path) -> Result<Vec<RecordBatch>, StoreError> {
    use esql::datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let error = |message: String| StoreError::Segment { path: path.to_path_buf(), message };
    let file = File::open(path).map_err(StoreError::io(format!("opening {}", path.display())))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(64 * 1024).build())
        .map_err(|e| error(e.to_string()))?;
    reader.map(|batch| batch.map_err(|e| error(e.to_string()))).collect()
}

/// The start (ms since the epoch) of the day partition a segment path names
/// (`segments/2024-05-01/…`); `None` for undated segments.
pub(crate) fn partition_start(path: &str) -> Option<i64> {
    let day = path.strip_prefix("segments/")?.split('/').next()?;
    let date = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// The length of a day partition in ms.
pub(crate) const DAY_MS: i64 = MS_PER_DAY;

/// The `_id`s of a segment.
pub(crate) fn read_ids(path: &Path) -> Result<Vec<String>, StoreError> {
    use esql::datafusion::arrow::array::StringArray;
    use esql::datafusion::parquet::arrow::ProjectionMask;
    use esql::datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let error = |message: String| StoreError::Segment { path: path.to_path_buf(), message };
    let file = File::open(path).map_err(StoreError::io(format!("opening {}", path.display())))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| error(e.to_string()))?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), [crate::mapping::ID_FIELD]);
    let reader = builder.with_projection(mask).build().map_err(|e| error(e.to_string()))?;
    let mut ids = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| error(e.to_string()))?;
        let column = batch.column_by_name(crate::mapping::ID_FIELD).ok_or_else(|| error("no `_id` column".into()))?;
        let strings =
            column.as_any().downcast_ref::<StringArray>().ok_or_else(|| error("`_id` is not a string".into()))?;
        ids.extend(strings.iter().flatten().map(str::to_string));
    }
    Ok(ids)
}
