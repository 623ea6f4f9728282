//! Upkeep of the segments, run by a background thread (or on demand): merging the small segments
//! of a day into one (each flush writes one segment per day it holds, so a steady trickle of
//! documents makes many small files), and deleting the days older than an index's retention.
//!
//! Both end in a manifest swap under the flush lock: the new manifest is written atomically once
//! the merged segment is durable, and only then are the files it no longer lists retired. A
//! retired file is removed when the last query reading it ends (see `SegmentLease`); after a
//! crash, whichever files the manifest does not list are removed when the store is opened. No
//! document is ever in two listed segments, or in none.

use crate::error::StoreError;
use crate::index::conform;
use crate::segment::{self, MANIFEST, Manifest, SegmentMeta, TIME_FIELD};
use crate::{Inner, lock};
use esql::datafusion::arrow::array::{BooleanArray, StringArray, TimestampMillisecondArray};
use esql::datafusion::arrow::compute::{
    SortOptions, concat_batches, filter_record_batch, sort_to_indices, take_record_batch,
};
use esql::datafusion::arrow::datatypes::SchemaRef;
use esql::datafusion::arrow::record_batch::RecordBatch;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What a compaction pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactionReport {
    /// Merges done (one new segment each).
    pub merges: usize,
    /// Segments merged away.
    pub segments_merged: usize,
    /// Bytes of the segments merged away.
    pub bytes_read: u64,
    /// Bytes of the segments written.
    pub bytes_written: u64,
}

/// What a retention pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Segments deleted.
    pub segments_deleted: usize,
    /// Documents deleted.
    pub documents_deleted: u64,
    /// The indices that lost days, by name.
    pub indices: Vec<String>,
}

/// One planned merge: segments of one day of one index.
struct Merge {
    index: String,
    dir: PathBuf,
    schema: SchemaRef,
    /// `segments/<day>`
    partition: String,
    inputs: Vec<SegmentMeta>,
    /// The index's replaced documents (`_id` → the record that replaced them) when the merge
    /// was planned: their older rows are dropped.
    replaced: Arc<HashMap<String, u64>>,
}

/// Distinguishes merged segments written in the same millisecond.
static MERGE_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Inner {
    /// Merges the small segments of every day that has enough of them.
    pub(crate) fn compact(&self) -> Result<CompactionReport, StoreError> {
        let _one_at_a_time = lock(&self.maintenance_lock);
        let mut by_index: BTreeMap<String, Vec<Merge>> = BTreeMap::new();
        for merge in self.plan_merges() {
            by_index.entry(merge.index.clone()).or_default().push(merge);
        }
        let mut report = CompactionReport::default();
        let mut failure = None;
        for merges in by_index.into_values() {
            if let Err(e) = self.merge_index(merges, &mut report) {
                failure.get_or_insert(e);
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    fn plan_merges(&self) -> Vec<Merge> {
        let options = &self.options;
        let state = lock(&self.state);
        let mut plans = Vec::new();
        for index in state.indices.values() {
            let replaced: Arc<HashMap<String, u64>> =
                Arc::new(index.replaced.iter().map(|(id, r)| (id.clone(), r.seq)).collect());
            let mut partitions: BTreeMap<&str, Vec<&SegmentMeta>> = BTreeMap::new();
            for meta in index.segments() {
                // small: any two of them fit in one merge
                if meta.bytes < options.compaction_small_bytes
                    && meta.rows.saturating_mul(2) <= options.compaction_max_rows
                {
                    let partition = meta.path.rsplit_once('/').map_or("", |(dir, _)| dir);
                    partitions.entry(partition).or_default().push(meta);
                }
            }
            for (partition, small) in partitions {
                let mut inputs = Vec::new();
                let (mut bytes, mut rows) = (0u64, 0u64);
                for meta in small {
                    if rows + meta.rows > options.compaction_max_rows
                        || (inputs.len() >= 2 && bytes + meta.bytes > options.compaction_max_bytes)
                    {
                        break;
                    }
                    bytes += meta.bytes;
                    rows += meta.rows;
                    inputs.push(meta.clone());
                }
                if inputs.len() >= options.compaction_min_segments.max(2) {
                    plans.push(Merge {
                        index: index.name.clone(),
                        dir: index.dir.clone(),
                        schema: index.mapping.stored_schema(),
                        partition: partition.to_string(),
                        inputs,
                        replaced: replaced.clone(),
                    });
                }
            }
        }
        plans
    }

    /// Writes the merged segments of one index, then swaps them in for their inputs in one
    /// manifest. A merge whose inputs changed meanwhile (the index was deleted) is dropped.
    fn merge_index(&self, merges: Vec<Merge>, report: &mut CompactionReport) -> Result<(), StoreError> {
        let mut written: Vec<(Merge, SegmentMeta)> = Vec::new();
        let mut failure = None;
        for merge in merges {
            match write_merged(&merge) {
                Ok(meta) => written.push((merge, meta)),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        let Some((first, _)) = written.first() else {
            return failure.map_or(Ok(()), Err);
        };
        let (name, dir) = (first.index.clone(), first.dir.clone());
        let remove = |meta: &SegmentMeta| {
            let _ = std::fs::remove_file(dir.join(&meta.path));
        };
        // the swap: the manifest lists the merged segments instead of their inputs
        let _no_flush = self.lock_for_swap();
        let current = {
            let state = lock(&self.state);
            state.indices.get(&name).filter(|i| i.dir == dir).map(|i| i.manifest.clone())
        };
        let Some(current) = current else {
            written.iter().for_each(|(_, meta)| remove(meta));
            return failure.map_or(Ok(()), Err);
        };
        let (valid, stale): (Vec<_>, Vec<_>) = written
            .into_iter()
            .partition(|(merge, _)| merge.inputs.iter().all(|input| current.segments.contains(input)));
        stale.iter().for_each(|(_, meta)| remove(meta));
        if valid.is_empty() {
            return failure.map_or(Ok(()), Err);
        }
        let mut segments: Vec<SegmentMeta> = Vec::with_capacity(current.segments.len());
        for meta in &current.segments {
            match valid.iter().find(|(merge, _)| merge.inputs.contains(meta)) {
                // the merged segment takes the place of its first input
                Some((merge, merged)) if merge.inputs.first() == Some(meta) => segments.push(merged.clone()),
                Some(_) => {}
                None => segments.push(meta.clone()),
            }
        }
        let manifest = Manifest { segments, ..current };
        if let Err(e) = segment::write_json(&dir.join(MANIFEST), &manifest) {
            valid.iter().for_each(|(_, meta)| remove(meta));
            return Err(e);
        }
        {
            let mut state = lock(&self.state);
            if let Some(index) = state.indices.get_mut(&name) {
                index.set_manifest(manifest);
            }
        }
        for (merge, merged) in &valid {
            report.merges += 1;
            report.segments_merged += merge.inputs.len();
            report.bytes_read += merge.inputs.iter().map(|s| s.bytes).sum::<u64>();
            report.bytes_written += merged.bytes;
        }
        failure.map_or(Ok(()), Err)
    }

    /// Deletes the whole days older than each index's retention, as of `now_ms`.
    pub(crate) fn apply_retention(&self, now_ms: i64) -> Result<RetentionReport, StoreError> {
        let _one_at_a_time = lock(&self.maintenance_lock);
        let _no_flush = self.lock_for_swap();
        let plans: Vec<(String, PathBuf, Manifest, Vec<SegmentMeta>)> = {
            let state = lock(&self.state);
            state
                .indices
                .values()
                .filter_map(|index| {
                    let retention = index.settings.effective_retention(self.options.default_retention)?;
                    let cutoff = now_ms.saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
                    let expired: Vec<SegmentMeta> = index
                        .segments()
                        .iter()
                        .filter(|s| {
                            segment::partition_start(&s.path).is_some_and(|day| day + segment::DAY_MS <= cutoff)
                        })
                        .cloned()
                        .collect();
                    (!expired.is_empty())
                        .then(|| (index.name.clone(), index.dir.clone(), index.manifest.clone(), expired))
                })
                .collect()
        };
        let mut report = RetentionReport::default();
        for (name, dir, current, expired) in plans {
            let segments = current.segments.iter().filter(|s| !expired.contains(s)).cloned().collect();
            let manifest = Manifest { segments, ..current };
            segment::write_json(&dir.join(MANIFEST), &manifest)?;
            let mut state = lock(&self.state);
            if let Some(index) = state.indices.get_mut(&name) {
                index.set_manifest(manifest);
            }
            report.segments_deleted += expired.len();
            report.documents_deleted += expired.iter().map(|s| s.rows).sum::<u64>();
            report.indices.push(name);
        }
        Ok(report)
    }
}

/// Reads a merge's inputs, adapted to the index's current columns and without the older rows of
/// replaced documents, and writes them sorted by time as one new segment of their day, durable
/// when this returns.
fn write_merged(merge: &Merge) -> Result<SegmentMeta, StoreError> {
    let internal = |e: &dyn std::fmt::Display| {
        StoreError::Internal(format!("merging segments of {} in {}: {e}", merge.index, merge.partition))
    };
    let mut batches = Vec::new();
    for input in &merge.inputs {
        for batch in segment::read_segment(&merge.dir.join(&input.path))? {
            let batch = drop_replaced(&batch, &merge.replaced, input.max_seq).map_err(|e| internal(&e))?;
            batches.push(conform(&batch, &merge.schema).map_err(|e| internal(&e))?);
        }
    }
    let batch = {
        let unsorted = concat_batches(&merge.schema, &batches).map_err(|e| internal(&e))?;
        drop(batches);
        sort_by_time(&unsorted).map_err(|e| internal(&e))?
    };
    let name = loop {
        let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
        let n = MERGE_COUNTER.fetch_add(1, Ordering::Relaxed);
        let candidate = format!("{}/merged-{millis:013}-{n}.parquet", merge.partition);
        if !merge.dir.join(&candidate).exists() {
            break candidate;
        }
    };
    let max_seq = merge.inputs.iter().map(|s| s.max_seq).max().unwrap_or(0);
    segment::write_segment(&merge.dir, &name, &batch, max_seq, segment::MERGE_LEVEL)
}

/// The rows of a segment's batch that are not older versions of replaced documents: a row is
/// older when its `_id` was replaced by a record after the segment's `max_seq`.
fn drop_replaced(
    batch: &RecordBatch,
    replaced: &HashMap<String, u64>,
    max_seq: u64,
) -> Result<RecordBatch, esql::datafusion::arrow::error::ArrowError> {
    if replaced.is_empty() {
        return Ok(batch.clone());
    }
    let Some(ids) =
        batch.column_by_name(crate::mapping::ID_FIELD).and_then(|c| c.as_any().downcast_ref::<StringArray>())
    else {
        return Ok(batch.clone());
    };
    let dead = |id: Option<&str>| id.and_then(|id| replaced.get(id)).is_some_and(|&seq| seq > max_seq);
    if !ids.iter().any(dead) {
        return Ok(batch.clone());
    }
    let keep: BooleanArray = ids.iter().map(|id| Some(!dead(id))).collect();
    filter_record_batch(batch, &keep)
}

/// Rows sorted by `@timestamp` (rows without one last), as flushes write them.
fn sort_by_time(batch: &RecordBatch) -> Result<RecordBatch, esql::datafusion::arrow::error::ArrowError> {
    let Some(times) =
        batch.column_by_name(TIME_FIELD).and_then(|c| c.as_any().downcast_ref::<TimestampMillisecondArray>())
    else {
        return Ok(batch.clone());
    };
    let options = SortOptions { descending: false, nulls_first: false };
    let indices = sort_to_indices(times, Some(options), None)?;
    take_record_batch(batch, &indices)
}

/// The background thread: every `maintenance_interval`, merges small segments and applies
/// retention, until the store is dropped. Failures are kept for [`crate::Store::last_maintenance_error`];
/// the segments stay as they were and the next pass tries again.
pub(crate) fn maintenance_loop(inner: &Inner) {
    let interval = inner.options.maintenance_interval.max(Duration::from_millis(10));
    let mut next = Instant::now() + interval;
    loop {
        {
            let mut signal = lock(&inner.signal);
            loop {
                if signal.stop {
                    return;
                }
                let now = Instant::now();
                if now >= next {
                    break;
                }
                signal = inner
                    .signal_cond
                    .wait_timeout(signal, next - now)
                    .map(|(guard, _)| guard)
                    .unwrap_or_else(|poisoned| poisoned.into_inner().0);
            }
        }
        let now_ms = chrono::Utc::now().timestamp_millis();
        let result = inner.compact().and_then(|_| inner.apply_retention(now_ms));
        *lock(&inner.last_maintenance_error) = result.err().map(|e| e.to_string());
        next = Instant::now() + interval;
    }
}
