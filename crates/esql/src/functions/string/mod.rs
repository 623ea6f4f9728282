//! String functions, one file each.

use super::ScalarDef;

pub mod bit_length;
pub mod byte_length;
pub mod concat;
pub mod contains;
pub mod ends_with;
pub mod from_base64;
pub mod java_regex;
pub mod json_extract;
pub mod left;
pub mod length;
pub mod like;
pub mod locate;
pub mod ltrim;
pub mod md5;
pub mod repeat;
pub mod replace;
pub mod reverse;
pub mod right;
pub mod rtrim;
pub mod sha1;
pub mod sha256;
pub mod space;
pub mod split;
pub mod starts_with;
pub mod substring;
pub mod to_base64;
pub mod to_lower;
pub mod to_upper;
pub mod trim;
pub mod url_decode;
pub mod url_encode;
pub mod url_encode_component;
pub mod util;

/// The string functions.
pub static ALL: &[&ScalarDef] = &[
    &to_lower::DEF,
    &to_upper::DEF,
    &bit_length::DEF,
    &byte_length::DEF,
    &concat::DEF,
    &contains::DEF,
    &ends_with::DEF,
    &from_base64::DEF,
    &json_extract::DEF,
    &left::DEF,
    &length::DEF,
    &locate::DEF,
    &ltrim::DEF,
    &md5::DEF,
    &repeat::DEF,
    &replace::DEF,
    &reverse::DEF,
    &right::DEF,
    &rtrim::DEF,
    &sha1::DEF,
    &sha256::DEF,
    &space::DEF,
    &split::DEF,
    &starts_with::DEF,
    &substring::DEF,
    &to_base64::DEF,
    &trim::DEF,
    &url_decode::DEF,
    &url_encode::DEF,
    &url_encode_component::DEF,
];

#[cfg(test)]
pub(crate) mod test_util {
    //! Builders and readers for the string functions' unit tests.

    use crate::functions::ArgInfo;
    use crate::types::EsType;
    use crate::udf::EvalCtx;
    use crate::warnings::{WarningSink, Warnings};
    use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Int32Type};
    use std::sync::Arc;

    /// An argument of type `ty` written as `text`.
    pub fn arg(text: &'static str, ty: EsType) -> ArgInfo<'static> {
        ArgInfo { ty, multi: false, literal: None, text }
    }

    /// A keyword argument written as `text`.
    pub fn keyword_arg(text: &'static str) -> ArgInfo<'static> {
        arg(text, EsType::Keyword)
    }

    /// A keyword column.
    pub fn str_col(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(v.iter().copied().collect::<StringArray>())
    }

    /// An integer column.
    pub fn int_col(v: &[Option<i32>]) -> ArrayRef {
        Arc::new(Int32Array::from(v.to_vec()))
    }

    /// Reads a keyword column.
    pub fn string_rows(a: &ArrayRef) -> Vec<Option<String>> {
        a.as_string::<i32>().iter().map(|v| v.map(str::to_string)).collect()
    }

    /// Reads an integer column.
    pub fn int_rows(a: &ArrayRef) -> Vec<Option<i32>> {
        a.as_primitive::<Int32Type>().iter().collect()
    }

    /// Reads a boolean column.
    pub fn bool_rows(a: &ArrayRef) -> Vec<Option<bool>> {
        a.as_boolean().iter().collect()
    }

    /// Reads a multi-valued keyword column.
    pub fn list_rows(a: &ArrayRef) -> Vec<Option<Vec<String>>> {
        let l = a.as_list::<i32>();
        (0..l.len())
            .map(|i| {
                if l.is_null(i) {
                    return None;
                }
                let v = l.value(i);
                Some(v.as_string::<i32>().iter().map(|s| s.unwrap_or_default().to_string()).collect())
            })
            .collect()
    }

    /// A warning sink to evaluate kernels with.
    pub struct TestCtx {
        sink: WarningSink,
        dt: DataType,
    }

    impl TestCtx {
        /// The evaluation context for `rows` rows.
        pub fn ctx(&self, rows: usize) -> EvalCtx<'_> {
            EvalCtx { sink: &self.sink, rows, return_type: &self.dt }
        }

        /// The warnings recorded so far.
        pub fn warnings(&self) -> Vec<String> {
            self.sink.collector().messages()
        }
    }

    /// A fresh test context.
    pub fn ctx() -> TestCtx {
        TestCtx { sink: WarningSink::new(Warnings::new(), 1, 1, "f(x)"), dt: DataType::Utf8 }
    }
}
