//! `MAX(field)`: the largest value (numbers numerically, strings byte-wise, ip and version in
//! their sort order, `false < true`); every value of a multi-value takes part.

use super::min::{plan_extreme, resolve_extreme};
use crate::functions::AggDef;

/// `MAX`.
pub static DEF: AggDef =
    AggDef { name: "max", resolve: |call, args| resolve_extreme("max", call, args), plan: |p| plan_extreme(p, true) };

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::ArgInfo;
    use crate::types::EsType;

    #[test]
    fn keeps_the_type() {
        let a = ArgInfo { ty: EsType::Ip, multi: true, literal: None, text: "x" };
        assert_eq!((DEF.resolve)("max(x)", &[a]).unwrap().ty, EsType::Ip);
    }
}
