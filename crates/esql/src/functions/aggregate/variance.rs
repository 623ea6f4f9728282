//! `VARIANCE(number)` (also `STD_VAR`): the population variance of every value (Welford's
//! algorithm, as Elastic), 0 for a single value, null without values.

use super::std_dev::{plan_spread, resolve_spread};
use crate::functions::AggDef;

/// `VARIANCE`.
pub static DEF: AggDef = AggDef {
    name: "variance",
    resolve: |call, args| resolve_spread("variance", call, args),
    plan: |p| plan_spread(p, false),
};

/// `STD_VAR`, Elastic's other name for `VARIANCE`.
pub static STD_VAR: AggDef = AggDef {
    name: "std_var",
    resolve: |call, args| resolve_spread("std_var", call, args),
    plan: |p| plan_spread(p, false),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::ArgInfo;
    use crate::types::EsType;

    #[test]
    fn resolves_to_double() {
        let a = ArgInfo { ty: EsType::Long, multi: false, literal: None, text: "x" };
        assert_eq!((STD_VAR.resolve)("std_var(x)", &[a]).unwrap().ty, EsType::Double);
    }
}
