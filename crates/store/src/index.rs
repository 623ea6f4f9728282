//! One index in memory: its mapping, the buffer of recent documents (Arrow batches, searchable),
//! and the list of its Parquet segments.

use crate::doc::{Doc, Names};
use crate::mapping::{FieldMapping, ID_FIELD, Mapping};
use crate::names::IndexKind;
use crate::segment::{Manifest, Replaced, SegmentLease, SegmentMeta};
use crate::settings::IndexSettings;
use esql::datafusion::arrow::array::{Array, ArrayRef, ListArray, StringArray};
use esql::datafusion::arrow::buffer::OffsetBuffer;
use esql::datafusion::arrow::compute::{concat_batches, filter, is_not_null};
use esql::datafusion::arrow::datatypes::{DataType, Field, SchemaRef};
use esql::datafusion::arrow::error::ArrowError;
use esql::datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

/// A batch of the buffer with the sequence number of the log record that produced it (the
/// highest one, for merged batches): it is searchable once that record is durable.
#[derive(Debug, Clone)]
pub(crate) struct BufferedBatch {
    pub seq: u64,
    pub batch: RecordBatch,
}

/// One document ready to be added: its id and parsed fields.
pub(crate) struct NewDoc {
    pub id: String,
    pub doc: Doc,
}

/// One index's state, guarded by the store's lock.
#[derive(Debug)]
pub(crate) struct IndexState {
    pub name: String,
    pub dir: PathBuf,
    pub mapping: Mapping,
    /// Object paths of the mapping (see [`Mapping::object_paths`]).
    pub objects: HashSet<String>,
    /// Batches not yet being flushed, oldest first.
    pub buffer: Vec<BufferedBatch>,
    /// Batches being written to segments by a flush; still searchable until the segments are.
    pub flushing: Vec<BufferedBatch>,
    /// The segments; change it with [`IndexState::set_manifest`].
    pub manifest: Manifest,
    /// Every `_id` of the index, loaded when the first document with an explicit id arrives.
    pub ids: Option<HashSet<String>>,
    /// What the index is and how long it keeps documents.
    pub settings: IndexSettings,
    /// The settings changed since the last flush: the next flush writes them, documents or not.
    pub dirty: bool,
    /// One lease per listed segment (by path relative to the index folder), shared with the
    /// queries reading it: a segment no longer listed is removed once no query reads it.
    pub leases: HashMap<String, Arc<SegmentLease>>,
    /// Every replaced document's latest replacement, by `_id`, up to the last applied record
    /// (the manifest holds them up to its `flushed_seq`).
    pub replaced: BTreeMap<String, Replaced>,
}

impl IndexState {
    /// A new, empty index with the built-in settings for its name (see
    /// [`IndexSettings::builtin`]).
    #[cfg(test)]
    pub fn new(name: &str, dir: PathBuf) -> IndexState {
        IndexState::with_settings(name, dir, IndexSettings::builtin(name))
    }

    /// A new, empty index. A data stream named `<type>-<dataset>-<namespace>` has its
    /// `data_stream.*` constants from its name.
    pub fn with_settings(name: &str, dir: PathBuf, settings: IndexSettings) -> IndexState {
        let kind = IndexKind::of(name);
        let mut mapping = Mapping::default();
        if let IndexKind::DataStream { kind, dataset, namespace } = &kind
            && settings.data_stream
        {
            mapping.add("data_stream.type", &FieldMapping::constant(kind));
            mapping.add("data_stream.dataset", &FieldMapping::constant(dataset));
            mapping.add("data_stream.namespace", &FieldMapping::constant(namespace));
        }
        let objects = mapping.object_paths();
        IndexState {
            name: name.to_string(),
            dir,
            mapping,
            objects,
            buffer: Vec::new(),
            flushing: Vec::new(),
            manifest: Manifest { format: 1, ..Manifest::default() },
            ids: None,
            settings,
            dirty: false,
            leases: HashMap::new(),
            replaced: BTreeMap::new(),
        }
    }

    /// Replaces the list of segments. Segments no longer listed are retired: their files are
    /// removed once the last query reading them is done.
    pub fn set_manifest(&mut self, manifest: Manifest) {
        let listed: HashSet<&str> = manifest.segments.iter().map(|s| s.path.as_str()).collect();
        self.leases.retain(|path, lease| {
            let keep = listed.contains(path.as_str());
            if !keep {
                lease.retire();
            }
            keep
        });
        for segment in &manifest.segments {
            if !self.leases.contains_key(&segment.path) {
                let lease = Arc::new(SegmentLease::new(self.dir.join(&segment.path)));
                self.leases.insert(segment.path.clone(), lease);
            }
        }
        self.manifest = manifest;
    }

    /// Retires every segment (the index is deleted).
    pub fn retire_all(&mut self) {
        for lease in self.leases.values() {
            lease.retire();
        }
        self.leases.clear();
    }

    /// The `_version` of the document `id` (which exists): 1 unless it was replaced.
    pub fn version_of(&self, id: &str) -> u64 {
        self.replaced.get(id).map_or(1, |r| r.version)
    }

    /// Applies an accepted batch: the documents it replaces go (their buffered rows are removed,
    /// their rows in segments are dead from then on), then its mapping changes, then its
    /// documents (their field names numbered in `names`), as one buffer batch. Deterministic, so
    /// that replaying the log rebuilds exactly what was acknowledged.
    pub fn apply(
        &mut self,
        seq: u64,
        replaces: &[(String, u64)],
        delta: &[(String, FieldMapping)],
        names: &Names,
        docs: Vec<NewDoc>,
    ) -> Result<(), ArrowError> {
        if !replaces.is_empty() {
            let ids: HashSet<&str> = replaces.iter().map(|(id, _)| id.as_str()).collect();
            remove_rows(&mut self.buffer, &ids)?;
            // a flush is writing these rows to a segment with an older `max_seq`: dead there too
            remove_rows(&mut self.flushing, &ids)?;
            for (id, version) in replaces {
                self.replaced.insert(id.clone(), Replaced { seq, version: *version });
            }
        }
        for (name, field) in delta {
            let new = !self.mapping.fields.contains_key(name);
            self.mapping.add(name, field);
            if new {
                for prefix in crate::mapping::prefixes(name) {
                    self.objects.insert(prefix.to_string());
                }
            }
        }
        if docs.is_empty() {
            return Ok(());
        }
        if let Some(ids) = &mut self.ids {
            ids.extend(docs.iter().map(|d| d.id.clone()));
        }
        let batch = crate::columns::build_batch(&mut self.mapping, names, docs)?;
        self.buffer.push(BufferedBatch { seq, batch });
        Ok(())
    }

    /// Merges the small searchable batches at the start of the buffer into one, so that a stream
    /// of tiny writes does not become thousands of batches.
    pub fn compact_buffer(&mut self, synced: u64) -> Result<(), ArrowError> {
        const MAX_BATCHES: usize = 32;
        const SMALL: usize = 64 * 1024;
        if self.buffer.len() <= MAX_BATCHES {
            return Ok(());
        }
        let small: Vec<usize> = self
            .buffer
            .iter()
            .enumerate()
            .take_while(|(_, b)| b.seq <= synced)
            .filter(|(_, b)| b.batch.num_rows() < SMALL)
            .map(|(i, _)| i)
            .collect();
        if small.len() < 2 {
            return Ok(());
        }
        let schema = self.mapping.stored_schema();
        let mut merged = Vec::with_capacity(small.len());
        for &i in &small {
            merged.push(conform(&self.buffer[i].batch, &schema)?);
        }
        let batch = concat_batches(&schema, &merged)?;
        let seq = small.iter().map(|&i| self.buffer[i].seq).max().unwrap_or(0);
        let first = small[0];
        let mut keep = Vec::with_capacity(self.buffer.len() - small.len() + 1);
        for (i, b) in std::mem::take(&mut self.buffer).into_iter().enumerate() {
            if i == first {
                keep.push(BufferedBatch { seq, batch: batch.clone() });
            } else if !small.contains(&i) {
                keep.push(b);
            }
        }
        self.buffer = keep;
        Ok(())
    }

    /// Bytes held in memory by the buffer.
    pub fn buffer_bytes(&self) -> usize {
        self.buffer.iter().chain(&self.flushing).map(|b| b.batch.get_array_memory_size()).sum()
    }

    /// The searchable buffered batches (in flush order), as they are.
    pub fn visible_batches(&self, synced: u64) -> Vec<RecordBatch> {
        self.flushing.iter().chain(&self.buffer).filter(|b| b.seq <= synced).map(|b| b.batch.clone()).collect()
    }

    /// The segments listed by the manifest.
    pub fn segments(&self) -> &[SegmentMeta] {
        &self.manifest.segments
    }
}

/// Removes the rows whose `_id` is in `ids` from `batches`, and the batches left empty.
fn remove_rows(batches: &mut Vec<BufferedBatch>, ids: &HashSet<&str>) -> Result<(), ArrowError> {
    for b in batches.iter_mut() {
        let Some(column) = b.batch.column_by_name(ID_FIELD).and_then(|c| c.as_any().downcast_ref::<StringArray>())
        else {
            continue;
        };
        if !column.iter().any(|id| id.is_some_and(|id| ids.contains(id))) {
            continue;
        }
        let keep: esql::datafusion::arrow::array::BooleanArray =
            column.iter().map(|id| Some(!id.is_some_and(|id| ids.contains(id)))).collect();
        b.batch = esql::datafusion::arrow::compute::filter_record_batch(&b.batch, &keep)?;
    }
    batches.retain(|b| b.batch.num_rows() > 0);
    Ok(())
}

/// A single-valued column as a list column: each value a list of one, each null a null list.
pub(crate) fn wrap_list(array: &ArrayRef, item: Arc<Field>) -> Result<ArrayRef, ArrowError> {
    let valid = is_not_null(array)?;
    let values = filter(array, &valid)?;
    let lengths = (0..array.len()).map(|i| usize::from(array.is_valid(i)));
    let nulls = array.logical_nulls();
    Ok(Arc::new(ListArray::try_new(item, OffsetBuffer::from_lengths(lengths), values, nulls)?))
}

/// Adapts a stored batch to a (newer) schema: columns added since are null, single-valued
/// columns that became multi-valued are wrapped in lists.
pub(crate) fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    if batch.schema().fields() == schema.fields() {
        return Ok(batch.clone());
    }
    let rows = batch.num_rows();
    let mut arrays = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        arrays.push(conform_column(batch, field, rows)?);
    }
    RecordBatch::try_new_with_options(schema.clone(), arrays, &RecordBatchOptions::new().with_row_count(Some(rows)))
}

/// `batch`'s column for `field`, adapted to its type.
pub(crate) fn conform_column(batch: &RecordBatch, field: &Field, rows: usize) -> Result<ArrayRef, ArrowError> {
    let Some(array) = batch.column_by_name(field.name()) else {
        return Ok(crate::segment::null_column(field.data_type(), rows));
    };
    if array.data_type() == field.data_type() {
        return Ok(array.clone());
    }
    match field.data_type() {
        DataType::List(item) if item.data_type() == array.data_type() => wrap_list(array, item.clone()),
        other => Err(ArrowError::SchemaError(format!(
            "column `{}` is {} in the buffer but {other} in the index",
            field.name(),
            array.data_type()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use esql::datafusion::arrow::array::Int64Array;
    use serde_json::json;

    fn docs(items: Vec<(&str, serde_json::Value)>) -> (Names, Vec<NewDoc>) {
        let mut names = Names::default();
        let docs = items
            .into_iter()
            .map(|(id, value)| {
                let source = serde_json::to_vec(&value).expect("json");
                let doc = crate::doc::parse(&source.into(), &mut names, crate::doc::Duplicates::Refuse).expect("parse");
                NewDoc { id: id.to_string(), doc }
            })
            .collect();
        (names, docs)
    }

    #[test]
    fn batches_follow_the_mapping() {
        let mut index = IndexState::new("logs-x-default", PathBuf::from("/nowhere"));
        let delta =
            vec![("n".to_string(), FieldMapping::new("long")), ("source.ip".to_string(), FieldMapping::new("ip"))];
        let (names, new) = docs(vec![("a", json!({"n": 1, "source": {"ip": "bad"}})), ("b", json!({"n": [2, 3]}))]);
        index.apply(1, &[], &delta, &names, new).expect("apply");
        assert!(index.mapping.fields["n"].multi);
        assert!(index.objects.contains("source"));
        let batch = &index.buffer[0].batch;
        let names: Vec<String> = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(names, vec!["_id", "_ignored", "n", "source.ip"]);
        let (names, new) = docs(vec![("c", json!({"n": 4, "x": 1}))]);
        index.apply(2, &[], &[], &names, new).expect("apply");
        // `x` is not mapped (not in the delta): ignored
        let schema = index.mapping.stored_schema();
        let second = conform(&index.buffer[1].batch, &schema).expect("conform");
        let ignored = second.column_by_name("_ignored").expect("_ignored");
        assert!(!ignored.is_null(0));
        let first = conform(&index.buffer[0].batch, &schema).expect("conform");
        assert_eq!(first.num_columns(), second.num_columns());
    }

    #[test]
    fn wrapping_keeps_nulls_null() {
        let array: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)]));
        let list = wrap_list(&array, Arc::new(Field::new("item", DataType::Int64, true))).expect("wrap");
        let list = list.as_any().downcast_ref::<ListArray>().expect("list");
        assert_eq!(list.len(), 3);
        assert!(list.is_null(1));
        assert_eq!(list.value(2).as_any().downcast_ref::<Int64Array>().expect("i64").value(0), 3);
        assert_eq!(list.values().len(), 2);
    }
}
