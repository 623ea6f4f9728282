//! What queries read: [`IndexSnapshot`], an index as of one moment (an
//! [`esql::catalog::Index`]), and its DataFusion table, a scan over the Parquet segments and the
//! searchable buffer.
//!
//! The scan pushes the projection into the Parquet reader, skips segments whose `@timestamp`
//! range cannot match the query's time filters, and hands the same range to the reader for
//! row-group pruning by statistics. Segments written before the mapping grew are adapted when
//! read: columns added since are null, a field that became multi-valued is wrapped in lists,
//! and `constant_keyword` fields (never stored) are the index's constant.

use crate::index::{conform_column, wrap_list};
use crate::mapping::ID_FIELD;
use crate::segment::{SegmentLease, SegmentMeta, TIME_FIELD};
use async_trait::async_trait;
use esql::catalog::{FieldInfo, Index};
use esql::datafusion::arrow::array::{ArrayRef, BooleanArray, NullArray, StringArray};
use esql::datafusion::arrow::datatypes::{DataType, FieldRef, Schema, SchemaRef, TimeUnit};
use esql::datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use esql::datafusion::catalog::{Session, TableProvider};
use esql::datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use esql::datafusion::common::{DataFusionError, Result, ScalarValue};
use esql::datafusion::datasource::TableType;
use esql::datafusion::datasource::listing::PartitionedFile;
use esql::datafusion::datasource::memory::MemorySourceConfig;
use esql::datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use esql::datafusion::datasource::source::DataSourceExec;
use esql::datafusion::execution::object_store::ObjectStoreUrl;
use esql::datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use esql::datafusion::object_store::ObjectMeta;
use esql::datafusion::object_store::path::Path as ObjectPath;
use esql::datafusion::physical_expr::expressions::{BinaryExpr as PhysicalBinary, CastExpr, Column, Literal};
use esql::datafusion::physical_expr::{PhysicalExpr, PhysicalExprRef};
use esql::datafusion::physical_expr_adapter::{
    DefaultPhysicalExprAdapterFactory, PhysicalExprAdapter, PhysicalExprAdapterFactory,
};
use esql::datafusion::physical_plan::empty::EmptyExec;
use esql::datafusion::physical_plan::filter::FilterExec;
use esql::datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use esql::datafusion::physical_plan::union::UnionExec;
use esql::datafusion::physical_plan::{ColumnarValue, ExecutionPlan};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A segment as a query sees it. The lease keeps the file while the query may read it, even
/// when a compaction, retention or deletion has since retired it.
#[derive(Debug, Clone)]
pub(crate) struct SegmentFile {
    pub path: PathBuf,
    pub meta: SegmentMeta,
    pub _lease: Arc<SegmentLease>,
    /// The `_id`s whose rows in this segment are older versions of replaced documents (shared
    /// by the segments with the same set).
    pub dead: Option<Arc<HashSet<String>>>,
}

/// An index as of one moment: its fields, constants, segments and searchable buffered batches.
#[derive(Debug)]
pub struct IndexSnapshot {
    pub(crate) name: String,
    pub(crate) fields: Vec<FieldInfo>,
    pub(crate) schema: SchemaRef,
    pub(crate) constants: Arc<BTreeMap<String, String>>,
    pub(crate) segments: Vec<SegmentFile>,
    pub(crate) batches: Vec<RecordBatch>,
}

impl Index for IndexSnapshot {
    fn name(&self) -> &str {
        &self.name
    }

    fn fields(&self) -> &[FieldInfo] {
        &self.fields
    }

    fn table(&self) -> Arc<dyn TableProvider> {
        Arc::new(IndexTable {
            schema: self.schema.clone(),
            constants: self.constants.clone(),
            segments: self.segments.clone(),
            batches: self.batches.clone(),
        })
    }

    fn constant(&self, field: &str) -> Option<String> {
        self.constants.get(field).cloned()
    }

    fn estimated_rows(&self) -> Option<u64> {
        let segments: u64 = self.segments.iter().map(|s| s.meta.rows).sum();
        Some(segments + self.batches.iter().map(|b| b.num_rows() as u64).sum::<u64>())
    }
}

/// The DataFusion table of an [`IndexSnapshot`].
#[derive(Debug)]
pub struct IndexTable {
    schema: SchemaRef,
    constants: Arc<BTreeMap<String, String>>,
    segments: Vec<SegmentFile>,
    batches: Vec<RecordBatch>,
}

#[async_trait]
impl TableProvider for IndexTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        // The filters are still applied above the scan; the scan only uses them to skip data.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let projected = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        let range = if self.has_time_column() { time_range_of(filters) } else { TimeRange::ALL };
        let mut plans: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
        // segments grouped by their set of dead `_id`s (most have none)
        let mut groups: Vec<(Option<Arc<HashSet<String>>>, Vec<PartitionedFile>)> = Vec::new();
        for segment in self.segments.iter().filter(|s| range.overlaps(s.meta.min_time, s.meta.max_time)) {
            let file = partitioned_file(segment)?;
            let same = |dead: &Option<Arc<HashSet<String>>>| match (dead, &segment.dead) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            };
            match groups.iter_mut().find(|(dead, _)| same(dead)) {
                Some((_, files)) => files.push(file),
                None => groups.push((segment.dead.clone(), vec![file])),
            }
        }
        for (dead, files) in groups {
            let mut source = ParquetSource::new(self.schema.clone());
            if let Some(predicate) = self.time_predicate(range) {
                source = source.with_predicate(predicate);
            }
            let adapter = StoreAdapterFactory { constants: self.constants.clone() };
            let builder = FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), Arc::new(source))
                .with_file_group(FileGroup::new(files))
                .with_expr_adapter(Some(Arc::new(adapter)));
            let Some(dead) = dead else {
                let config = builder.with_projection_indices(projection.cloned())?.with_limit(limit).build();
                plans.push(DataSourceExec::from_data_source(config));
                continue;
            };
            // read `_id` too, drop the dead rows, then keep the projected columns
            let id_index = self.schema.index_of(ID_FIELD)?;
            let mut columns: Vec<usize> =
                projection.cloned().unwrap_or_else(|| (0..self.schema.fields().len()).collect());
            let id_at = match columns.iter().position(|&c| c == id_index) {
                Some(at) => at,
                None => {
                    columns.push(id_index);
                    columns.len() - 1
                }
            };
            let config = builder.with_projection_indices(Some(columns.clone()))?.build();
            let scan: Arc<dyn ExecutionPlan> = DataSourceExec::from_data_source(config);
            let predicate: PhysicalExprRef = Arc::new(IdNotIn { column: Arc::new(Column::new(ID_FIELD, id_at)), dead });
            let filtered: Arc<dyn ExecutionPlan> = Arc::new(FilterExec::try_new(predicate, scan)?);
            let filtered_schema = filtered.schema();
            let exprs: Vec<ProjectionExpr> = projected
                .fields()
                .iter()
                .enumerate()
                .map(|(i, f)| ProjectionExpr {
                    expr: Arc::new(Column::new(filtered_schema.field(i).name(), i)) as PhysicalExprRef,
                    alias: f.name().clone(),
                })
                .collect();
            plans.push(Arc::new(ProjectionExec::try_new(exprs, filtered)?));
        }
        if !self.batches.is_empty() {
            let batches = self.batches.iter().map(|b| self.conform_batch(b, &projected)).collect::<Result<Vec<_>>>()?;
            plans.push(MemorySourceConfig::try_new_exec(&[batches], projected.clone(), None)?);
        }
        match plans.len() {
            0 => Ok(Arc::new(EmptyExec::new(projected))),
            1 => Ok(plans.remove(0)),
            _ => UnionExec::try_new(plans),
        }
    }
}

impl IndexTable {
    fn has_time_column(&self) -> bool {
        self.schema
            .field_with_name(TIME_FIELD)
            .is_ok_and(|f| f.data_type() == &DataType::Timestamp(TimeUnit::Millisecond, None))
    }

    /// `@timestamp >= lo AND @timestamp <= hi`, for row-group pruning.
    fn time_predicate(&self, range: TimeRange) -> Option<PhysicalExprRef> {
        let index = self.schema.index_of(TIME_FIELD).ok()?;
        let column: PhysicalExprRef = Arc::new(Column::new(TIME_FIELD, index));
        let bound = |op: Operator, ms: i64| -> PhysicalExprRef {
            let value: PhysicalExprRef = Arc::new(Literal::new(ScalarValue::TimestampMillisecond(Some(ms), None)));
            Arc::new(PhysicalBinary::new(column.clone(), op, value))
        };
        let parts: Vec<PhysicalExprRef> =
            [range.min.map(|m| bound(Operator::GtEq, m)), range.max.map(|m| bound(Operator::LtEq, m))]
                .into_iter()
                .flatten()
                .collect();
        parts.into_iter().reduce(|a, b| Arc::new(PhysicalBinary::new(a, Operator::And, b)) as PhysicalExprRef)
    }

    /// A buffered batch (in its stored schema) as the projected table schema.
    fn conform_batch(&self, batch: &RecordBatch, projected: &SchemaRef) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(projected.fields().len());
        for field in projected.fields() {
            let array: ArrayRef = if let Some(value) = self.constants.get(field.name()) {
                Arc::new(StringArray::from_iter_values(std::iter::repeat_n(value, rows)))
            } else if field.data_type() == &DataType::Null {
                Arc::new(NullArray::new(rows))
            } else {
                conform_column(batch, field, rows)?
            };
            arrays.push(array);
        }
        Ok(RecordBatch::try_new_with_options(
            projected.clone(),
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )?)
    }
}

fn partitioned_file(segment: &SegmentFile) -> Result<PartitionedFile> {
    let location = ObjectPath::from_absolute_path(&segment.path)
        .map_err(|e| DataFusionError::Execution(format!("segment {}: {e}", segment.path.display())))?;
    let meta = ObjectMeta {
        location,
        last_modified: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        size: segment.meta.bytes,
        e_tag: None,
        version: None,
    };
    Ok(PartitionedFile::new_from_meta(meta))
}

/// An inclusive range of `@timestamp` values (ms), unbounded where `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeRange {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl TimeRange {
    pub const ALL: TimeRange = TimeRange { min: None, max: None };

    fn intersect(self, other: TimeRange) -> TimeRange {
        TimeRange {
            min: match (self.min, other.min) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
            max: match (self.max, other.max) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }

    fn union(self, other: TimeRange) -> TimeRange {
        TimeRange {
            min: self.min.zip(other.min).map(|(a, b)| a.min(b)),
            max: self.max.zip(other.max).map(|(a, b)| a.max(b)),
        }
    }

    /// Whether a segment with this time range may hold matching rows. A segment without times
    /// (no `@timestamp` at all) matches only an unbounded range.
    pub fn overlaps(self, min: Option<i64>, max: Option<i64>) -> bool {
        if self == TimeRange::ALL {
            return true;
        }
        let (Some(min), Some(max)) = (min, max) else { return false };
        self.min.is_none_or(|lo| max >= lo) && self.max.is_none_or(|hi| min <= hi)
    }
}

/// The `@timestamp` range the filters (a conjunction) allow; unbounded when they say nothing
/// about it.
pub(crate) fn time_range_of(filters: &[Expr]) -> TimeRange {
    filters.iter().map(expr_range).fold(TimeRange::ALL, TimeRange::intersect)
}

fn expr_range(expr: &Expr) -> TimeRange {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::And, right }) => {
            expr_range(left).intersect(expr_range(right))
        }
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Or, right }) => expr_range(left).union(expr_range(right)),
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            if let (true, Some(v)) = (is_time_column(left), literal_ms(right)) {
                comparison_range(*op, v)
            } else if let (Some(v), true) = (literal_ms(left), is_time_column(right)) {
                op.swap().map_or(TimeRange::ALL, |op| comparison_range(op, v))
            } else {
                TimeRange::ALL
            }
        }
        Expr::Between(Between { expr, negated: false, low, high }) if is_time_column(expr) => {
            TimeRange { min: literal_ms(low).map(|(lo, _)| lo), max: literal_ms(high).map(|(_, hi)| hi) }
        }
        _ => TimeRange::ALL,
    }
}

/// The range of `@timestamp op v`, with `v` as (floor, ceil) milliseconds.
fn comparison_range(op: Operator, (floor, ceil): (i64, i64)) -> TimeRange {
    match op {
        Operator::Gt | Operator::GtEq => TimeRange { min: Some(floor), max: None },
        Operator::Lt | Operator::LtEq => TimeRange { min: None, max: Some(ceil) },
        Operator::Eq => TimeRange { min: Some(floor), max: Some(ceil) },
        _ => TimeRange::ALL,
    }
}

fn is_time_column(expr: &Expr) -> bool {
    match expr {
        Expr::Column(c) => c.name == TIME_FIELD,
        Expr::Cast(c) => matches!(c.field.data_type(), DataType::Timestamp(..)) && is_time_column(&c.expr),
        Expr::TryCast(c) => matches!(c.field.data_type(), DataType::Timestamp(..)) && is_time_column(&c.expr),
        _ => false,
    }
}

/// A timestamp literal as milliseconds, rounded down and up.
fn literal_ms(expr: &Expr) -> Option<(i64, i64)> {
    let Expr::Literal(value, _) = expr else { return None };
    let (v, per_ms) = match value {
        ScalarValue::TimestampSecond(Some(v), _) => return v.checked_mul(1000).map(|ms| (ms, ms)),
        ScalarValue::TimestampMillisecond(Some(v), _) => return Some((*v, *v)),
        ScalarValue::TimestampMicrosecond(Some(v), _) => (*v, 1_000),
        ScalarValue::TimestampNanosecond(Some(v), _) => (*v, 1_000_000),
        _ => return None,
    };
    let floor = v.div_euclid(per_ms);
    let ceil = if v.rem_euclid(per_ms) == 0 { floor } else { floor + 1 };
    Some((floor, ceil))
}

/// Adapts each segment's columns to the table schema: [`DefaultPhysicalExprAdapterFactory`]
/// (missing columns are null), plus constants and single → multi-valued promotion.
#[derive(Debug)]
struct StoreAdapterFactory {
    constants: Arc<BTreeMap<String, String>>,
}

impl PhysicalExprAdapterFactory for StoreAdapterFactory {
    fn create(
        &self,
        logical_file_schema: SchemaRef,
        physical_file_schema: SchemaRef,
    ) -> Result<Arc<dyn PhysicalExprAdapter>> {
        let inner = DefaultPhysicalExprAdapterFactory.create(logical_file_schema, physical_file_schema.clone())?;
        Ok(Arc::new(StoreAdapter { inner, constants: self.constants.clone(), physical: physical_file_schema }))
    }
}

#[derive(Debug)]
struct StoreAdapter {
    inner: Arc<dyn PhysicalExprAdapter>,
    constants: Arc<BTreeMap<String, String>>,
    physical: SchemaRef,
}

impl PhysicalExprAdapter for StoreAdapter {
    fn rewrite(&self, expr: PhysicalExprRef) -> Result<PhysicalExprRef> {
        let with_constants = expr
            .transform(|e| {
                if let Some(column) = e.downcast_ref::<Column>()
                    && self.physical.index_of(column.name()).is_err()
                    && let Some(value) = self.constants.get(column.name())
                {
                    let literal: PhysicalExprRef = Arc::new(Literal::new(ScalarValue::Utf8(Some(value.clone()))));
                    return Ok(Transformed::yes(literal));
                }
                Ok(Transformed::no(e))
            })
            .data()?;
        let adapted = self.inner.rewrite(with_constants)?;
        // The default adapter casts `T` to `List<T>`, which makes a null value a list holding a
        // null; ES|QL needs a null list.
        adapted
            .transform(|e| {
                if let Some(cast) = e.downcast_ref::<CastExpr>()
                    && let DataType::List(item) = cast.cast_type()
                    && cast.expr().downcast_ref::<Column>().is_some()
                    && cast.expr().data_type(&self.physical)? == *item.data_type()
                {
                    let wrapped: PhysicalExprRef =
                        Arc::new(ToListExpr { child: cast.expr().clone(), item: item.clone() });
                    return Ok(Transformed::yes(wrapped));
                }
                Ok(Transformed::no(e))
            })
            .data()
    }
}

/// True for the rows whose `_id` is not in `dead`: the rows of a segment that are not older
/// versions of replaced documents.
#[derive(Debug)]
struct IdNotIn {
    column: PhysicalExprRef,
    dead: Arc<HashSet<String>>,
}

impl PartialEq for IdNotIn {
    fn eq(&self, other: &Self) -> bool {
        self.column.as_ref() == other.column.as_ref() && Arc::ptr_eq(&self.dead, &other.dead)
    }
}

impl Eq for IdNotIn {}

impl std::hash::Hash for IdNotIn {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.column.as_ref().hash(state);
        std::ptr::hash(Arc::as_ptr(&self.dead), state);
    }
}

impl fmt::Display for IdNotIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} NOT IN <{} replaced ids>", self.column, self.dead.len())
    }
}

impl PhysicalExpr for IdNotIn {
    fn data_type(&self, _input_schema: &Schema) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn nullable(&self, _input_schema: &Schema) -> Result<bool> {
        Ok(false)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let array = self.column.evaluate(batch)?.into_array(batch.num_rows())?;
        let ids = array
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| DataFusionError::Internal(format!("`_id` is {}, not a string", array.data_type())))?;
        let keep: BooleanArray = ids.iter().map(|id| Some(!id.is_some_and(|id| self.dead.contains(id)))).collect();
        Ok(ColumnarValue::Array(Arc::new(keep)))
    }

    fn children(&self) -> Vec<&PhysicalExprRef> {
        vec![&self.column]
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<PhysicalExprRef>) -> Result<PhysicalExprRef> {
        let column =
            children.pop().ok_or_else(|| DataFusionError::Internal("the `_id` filter takes one argument".into()))?;
        Ok(Arc::new(IdNotIn { column, dead: self.dead.clone() }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.column.fmt_sql(f)?;
        write!(f, " NOT IN (<{} replaced ids>)", self.dead.len())
    }
}

/// Wraps each value of a single-valued column in a list of one; a null stays null.
#[derive(Debug, Eq)]
struct ToListExpr {
    child: PhysicalExprRef,
    item: FieldRef,
}

impl PartialEq for ToListExpr {
    fn eq(&self, other: &Self) -> bool {
        self.child.as_ref() == other.child.as_ref() && self.item == other.item
    }
}

impl std::hash::Hash for ToListExpr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.child.as_ref().hash(state);
        self.item.hash(state);
    }
}

impl fmt::Display for ToListExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "to_list({})", self.child)
    }
}

impl PhysicalExpr for ToListExpr {
    fn data_type(&self, _input_schema: &Schema) -> Result<DataType> {
        Ok(DataType::List(self.item.clone()))
    }

    fn nullable(&self, _input_schema: &Schema) -> Result<bool> {
        Ok(true)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let array = self.child.evaluate(batch)?.into_array(batch.num_rows())?;
        Ok(ColumnarValue::Array(wrap_list(&array, self.item.clone())?))
    }

    fn children(&self) -> Vec<&PhysicalExprRef> {
        vec![&self.child]
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<PhysicalExprRef>) -> Result<PhysicalExprRef> {
        let child =
            children.pop().ok_or_else(|| DataFusionError::Internal("to_list takes one argument".to_string()))?;
        Ok(Arc::new(ToListExpr { child, item: self.item.clone() }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "to_list(")?;
        self.child.fmt_sql(f)?;
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use esql::datafusion::logical_expr::{col, lit};

    fn ts(ms: i64) -> Expr {
        lit(ScalarValue::TimestampMillisecond(Some(ms), None))
    }

    #[test]
    fn time_ranges_from_filters() {
        let t = || col(TIME_FIELD);
        assert_eq!(time_range_of(&[t().gt_eq(ts(10))]), TimeRange { min: Some(10), max: None });
        assert_eq!(time_range_of(&[t().gt_eq(ts(10)), t().lt(ts(20))]), TimeRange { min: Some(10), max: Some(20) });
        assert_eq!(time_range_of(&[ts(10).lt(t())]), TimeRange { min: Some(10), max: None });
        assert_eq!(time_range_of(&[t().gt(ts(10)).or(col("x").eq(lit(1)))]), TimeRange::ALL);
        assert_eq!(
            time_range_of(&[t().gt(ts(10)).and(t().lt(ts(5))).or(t().eq(ts(30)))]),
            TimeRange { min: Some(10), max: Some(30) }
        );
        assert_eq!(time_range_of(&[t().between(ts(1), ts(2))]), TimeRange { min: Some(1), max: Some(2) });
        let nanos = lit(ScalarValue::TimestampNanosecond(Some(1_500_000), None));
        assert_eq!(time_range_of(&[t().gt(nanos)]), TimeRange { min: Some(1), max: None });
        let range = TimeRange { min: Some(10), max: Some(20) };
        assert!(range.overlaps(Some(0), Some(10)));
        assert!(!range.overlaps(Some(21), Some(30)));
        assert!(!range.overlaps(None, None));
        assert!(TimeRange::ALL.overlaps(None, None));
    }
}
