//! Multi-value functions (`MV_*`).

use super::ScalarDef;

/// The multi-value functions.
pub static ALL: &[&ScalarDef] = &[];
