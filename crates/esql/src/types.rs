//! ES|QL data types and their Arrow representation.
//!
//! | ES|QL | Arrow |
//! |---|---|
//! | keyword, text | Utf8 |
//! | ip | FixedSizeBinary(16), IPv4 as IPv4-mapped IPv6 (byte order is Elastic's sort order) |
//! | version | Binary in a sortable encoding (see [`crate::version`]) |
//! | integer / long / unsigned_long / double | Int32 / Int64 / UInt64 / Float64 |
//! | boolean | Boolean |
//! | date / date_nanos | Timestamp(ms) / Timestamp(ns), UTC |
//! | geo_point | Utf8 holding the point's canonical WKT, `POINT (lon lat)` with Java's double formatting, as Elastic prints it (see [`crate::functions::spatial`]) |
//! | null | Null |
//!
//! A field that may hold several values is a `List` of the above. The ES|QL type of a column is kept
//! in the Arrow field's metadata under [`ES_TYPE_KEY`], because several ES|QL types share an Arrow
//! type (keyword and text, and geo_point).

use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Arrow field metadata key holding the ES|QL type name.
pub const ES_TYPE_KEY: &str = "esql.type";

/// The ES|QL data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EsType {
    /// The type of `null`.
    Null,
    /// `boolean`
    Boolean,
    /// `integer` (also `short`, `byte` in mappings)
    Integer,
    /// `long`
    Long,
    /// `unsigned_long`
    UnsignedLong,
    /// `double` (also `float`, `half_float`, `scaled_float` in mappings)
    Double,
    /// `keyword` (also `constant_keyword`, `wildcard`)
    Keyword,
    /// `text` (also `match_only_text`)
    Text,
    /// `ip`
    Ip,
    /// `version`
    Version,
    /// `date` (ES|QL `datetime`)
    Date,
    /// `date_nanos`
    DateNanos,
    /// `date_period` (calendar spans such as `1 month`; literal only)
    DatePeriod,
    /// `time_duration` (fixed spans such as `1 hour`; literal only)
    TimeDuration,
    /// `geo_point`
    GeoPoint,
    /// A field whose type ES|QL cannot use (or whose types conflict across indices).
    Unsupported,
}

impl EsType {
    /// The name ES|QL uses in results (`columns[].type`).
    pub fn name(self) -> &'static str {
        match self {
            EsType::Null => "null",
            EsType::Boolean => "boolean",
            EsType::Integer => "integer",
            EsType::Long => "long",
            EsType::UnsignedLong => "unsigned_long",
            EsType::Double => "double",
            EsType::Keyword => "keyword",
            EsType::Text => "text",
            EsType::Ip => "ip",
            EsType::Version => "version",
            EsType::Date => "date",
            EsType::DateNanos => "date_nanos",
            EsType::DatePeriod => "date_period",
            EsType::TimeDuration => "time_duration",
            EsType::GeoPoint => "geo_point",
            EsType::Unsupported => "unsupported",
        }
    }

    /// The Arrow type of one value of this type.
    pub fn arrow(self) -> DataType {
        match self {
            EsType::Null | EsType::Unsupported => DataType::Null,
            EsType::Boolean => DataType::Boolean,
            EsType::Integer => DataType::Int32,
            EsType::Long => DataType::Int64,
            EsType::UnsignedLong => DataType::UInt64,
            EsType::Double => DataType::Float64,
            EsType::Keyword | EsType::Text | EsType::GeoPoint => DataType::Utf8,
            EsType::Ip => DataType::FixedSizeBinary(16),
            EsType::Version => DataType::Binary,
            EsType::Date => DataType::Timestamp(TimeUnit::Millisecond, None),
            EsType::DateNanos => DataType::Timestamp(TimeUnit::Nanosecond, None),
            EsType::DatePeriod => DataType::Interval(datafusion::arrow::datatypes::IntervalUnit::MonthDayNano),
            EsType::TimeDuration => DataType::Duration(TimeUnit::Millisecond),
        }
    }

    /// The Arrow type of a column of this type, multi-valued or not.
    pub fn arrow_column(self, multi: bool) -> DataType {
        if multi { DataType::List(Arc::new(Field::new("item", self.arrow(), true))) } else { self.arrow() }
    }

    /// An Arrow field for a column, with the ES|QL type in its metadata.
    pub fn field(self, name: &str, multi: bool) -> Field {
        Field::new(name, self.arrow_column(multi), true)
            .with_metadata(HashMap::from([(ES_TYPE_KEY.to_string(), self.name().to_string())]))
    }

    /// Reads the ES|QL type from an Arrow field's metadata, falling back to the Arrow type.
    pub fn of_field(field: &Field) -> EsType {
        if let Some(t) = field.metadata().get(ES_TYPE_KEY).and_then(|s| s.parse().ok()) {
            return t;
        }
        match field.data_type() {
            DataType::List(inner) | DataType::LargeList(inner) => EsType::from_arrow(inner.data_type()),
            other => EsType::from_arrow(other),
        }
    }

    /// The natural ES|QL type of an Arrow type.
    pub fn from_arrow(dt: &DataType) -> EsType {
        match dt {
            DataType::Null => EsType::Null,
            DataType::Boolean => EsType::Boolean,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => EsType::Integer,
            DataType::Int64 | DataType::UInt32 => EsType::Long,
            DataType::UInt64 => EsType::UnsignedLong,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => EsType::Double,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => EsType::Keyword,
            DataType::FixedSizeBinary(16) => EsType::Ip,
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => EsType::Version,
            DataType::Timestamp(TimeUnit::Nanosecond, _) => EsType::DateNanos,
            DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => EsType::Date,
            DataType::Interval(_) => EsType::DatePeriod,
            DataType::Duration(_) => EsType::TimeDuration,
            _ => EsType::Unsupported,
        }
    }

    /// True for integer, long, unsigned_long and double.
    pub fn is_numeric(self) -> bool {
        matches!(self, EsType::Integer | EsType::Long | EsType::UnsignedLong | EsType::Double)
    }

    /// True for integer, long and unsigned_long.
    pub fn is_whole(self) -> bool {
        matches!(self, EsType::Integer | EsType::Long | EsType::UnsignedLong)
    }

    /// True for keyword and text.
    pub fn is_string(self) -> bool {
        matches!(self, EsType::Keyword | EsType::Text)
    }

    /// True for date and date_nanos.
    pub fn is_date(self) -> bool {
        matches!(self, EsType::Date | EsType::DateNanos)
    }

    /// True for the time span literal types.
    pub fn is_span(self) -> bool {
        matches!(self, EsType::DatePeriod | EsType::TimeDuration)
    }

    /// The ES|QL type that an Elasticsearch mapping type is read as, `None` when ES|QL cannot
    /// read it at all.
    pub fn from_mapping(es: &str) -> Option<EsType> {
        Some(match es {
            "boolean" => EsType::Boolean,
            "byte" | "short" | "integer" => EsType::Integer,
            "long" => EsType::Long,
            "unsigned_long" => EsType::UnsignedLong,
            "float" | "half_float" | "scaled_float" | "double" => EsType::Double,
            "keyword" | "constant_keyword" | "wildcard" => EsType::Keyword,
            "text" | "match_only_text" => EsType::Text,
            "ip" => EsType::Ip,
            "version" => EsType::Version,
            "date" => EsType::Date,
            "date_nanos" => EsType::DateNanos,
            "geo_point" => EsType::GeoPoint,
            _ => return None,
        })
    }
}

impl fmt::Display for EsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EsType {
    type Err = String;

    fn from_str(s: &str) -> Result<EsType, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "null" => EsType::Null,
            "boolean" | "bool" => EsType::Boolean,
            "integer" | "int" | "i" | "short" | "byte" => EsType::Integer,
            "long" | "l" => EsType::Long,
            "unsigned_long" | "ul" => EsType::UnsignedLong,
            "double" | "d" | "float" | "half_float" | "scaled_float" => EsType::Double,
            "keyword" | "k" | "s" | "string" => EsType::Keyword,
            "text" | "txt" => EsType::Text,
            "ip" => EsType::Ip,
            "version" | "v" => EsType::Version,
            "date" | "datetime" => EsType::Date,
            "date_nanos" => EsType::DateNanos,
            "date_period" => EsType::DatePeriod,
            "time_duration" => EsType::TimeDuration,
            "geo_point" => EsType::GeoPoint,
            "unsupported" => EsType::Unsupported,
            other => {
                return Err(format!(
                    "unknown type `{other}`, expected one of: null, boolean, integer, long, unsigned_long, double, keyword, text, ip, version, date, date_nanos, geo_point"
                ));
            }
        })
    }
}
