//! Math functions.

use super::ScalarDef;

/// The math functions.
pub static ALL: &[&ScalarDef] = &[];
