//! [`EsUdf`]: one DataFusion scalar UDF type for every ES|QL scalar function.
//!
//! An ES|QL function instance knows where it was written (for warnings), so each call site gets
//! its own UDF instance carrying a [`WarningSink`] and the kernel to run. Kernels see whole
//! arrays: scalar arguments are expanded to the batch length first.

use crate::warnings::WarningSink;
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a kernel gets besides its arguments.
pub struct EvalCtx<'a> {
    /// Where to report per-row failures.
    pub sink: &'a WarningSink,
    /// Number of rows in the batch.
    pub rows: usize,
    /// The Arrow type the kernel must return.
    pub return_type: &'a DataType,
}

/// A kernel: arguments (all arrays of `rows` length) to a result array of `return_type`.
pub type Kernel = Arc<dyn Fn(&[ArrayRef], &EvalCtx) -> Result<ArrayRef> + Send + Sync>;

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// A DataFusion UDF running one ES|QL scalar function at one call site.
pub struct EsUdf {
    name: String,
    id: usize,
    signature: Signature,
    return_type: DataType,
    kernel: Kernel,
    sink: WarningSink,
}

impl EsUdf {
    /// Wraps `kernel` as a UDF named `name` returning `return_type`, reporting to `sink`.
    pub fn new(name: &str, return_type: DataType, sink: WarningSink, kernel: Kernel) -> EsUdf {
        EsUdf {
            name: name.to_string(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            signature: Signature::variadic_any(Volatility::Immutable),
            return_type,
            kernel,
            sink,
        }
    }

    /// The DataFusion expression calling this UDF on `args`.
    pub fn call(self, args: Vec<Expr>) -> Expr {
        let udf =
            if args.is_empty() { EsUdf { signature: Signature::nullary(Volatility::Immutable), ..self } } else { self };
        ScalarUDF::new_from_impl(udf).call(args)
    }
}

/// Builds the UDF call expression in one step.
pub fn call(name: &str, return_type: DataType, sink: &WarningSink, args: Vec<Expr>, kernel: Kernel) -> Expr {
    EsUdf::new(name, return_type, sink.clone(), kernel).call(args)
}

impl fmt::Debug for EsUdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EsUdf({}#{})", self.name, self.id)
    }
}

impl PartialEq for EsUdf {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for EsUdf {}

impl Hash for EsUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl ScalarUDFImpl for EsUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.return_type.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let n = if all_scalar { 1 } else { rows };
        let arrays = args.args.into_iter().map(|a| a.into_array(n)).collect::<Result<Vec<_>>>()?;
        let ctx = EvalCtx { sink: &self.sink, rows: n, return_type: &self.return_type };
        let out = (self.kernel)(&arrays, &ctx)?;
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}
