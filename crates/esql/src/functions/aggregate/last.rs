//! `LAST(field, sortField)`: the value of `field` on the row with the largest `sortField`
//! (a long, date or date_nanos); rows without a sort value come last. The row's value is taken
//! as it is: null, single- or multi-valued. A multi-valued sort field sorts by its largest value.

use super::first::{plan_occurrence, resolve_occurrence};
use crate::functions::AggDef;

/// `LAST`.
pub static DEF: AggDef = AggDef {
    name: "last",
    resolve: |call, args| resolve_occurrence("last", call, args),
    plan: |p| plan_occurrence(p, true),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::ArgInfo;
    use crate::types::EsType;

    #[test]
    fn keeps_the_field_type() {
        let f = ArgInfo { ty: EsType::Text, multi: false, literal: None, text: "x" };
        let s = ArgInfo { ty: EsType::Date, multi: false, literal: None, text: "t" };
        assert_eq!((DEF.resolve)("last(x, t)", &[f, s]).unwrap().ty, EsType::Keyword);
    }
}
