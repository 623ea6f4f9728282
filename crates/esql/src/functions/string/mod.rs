//! String functions, one file each.

use super::ScalarDef;

pub mod like;
pub mod to_lower;
pub mod to_upper;

/// The string functions.
pub static ALL: &[&ScalarDef] = &[&to_lower::DEF, &to_upper::DEF];
