//! `MV_MAX(field)`: the largest value of a multi-valued expression (byte-wise for strings, ips
//! and versions).

use super::mv_min::{plan_extreme, resolve_extreme};
use crate::functions::ScalarDef;

/// `MV_MAX`.
pub static DEF: ScalarDef = ScalarDef {
    name: "mv_max",
    mv_args: true,
    resolve: |c, a| resolve_extreme("mv_max", c, a),
    plan: |p| plan_extreme("mv_max", true, p),
};

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use crate::functions::kernels;
    use crate::types::EsType;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int32Type;

    #[test]
    fn largest_value() {
        let a = int_lists(vec![Some(vec![Some(3), Some(5), Some(1)]), None]);
        let out = kernels::mv_max(&a).unwrap();
        let out = out.as_primitive::<Int32Type>();
        assert_eq!(out.value(0), 5);
        assert!(out.is_null(1));
    }

    #[test]
    fn resolves() {
        let r = check(&DEF, "mv_max(ul)", &[(EsType::UnsignedLong, true, "ul")]).unwrap();
        assert_eq!(r.ty, EsType::UnsignedLong);
        assert!(!r.multi);
    }
}
