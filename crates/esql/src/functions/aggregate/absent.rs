//! `ABSENT(field)`: true when the group holds no non-null value of `field` (the negation of
//! `PRESENT`).

use super::present::plan_presence;
use crate::functions::{AggDef, ArgInfo, Resolved, expect_arity};
use crate::types::EsType;

/// `ABSENT`.
pub static DEF: AggDef = AggDef { name: "absent", resolve, plan: |p| plan_presence(p, true) };

fn resolve(_call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("absent", args, 1, 1)?;
    Ok(Resolved::of(EsType::Boolean))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_to_boolean() {
        let a = ArgInfo { ty: EsType::Long, multi: false, literal: None, text: "x" };
        assert_eq!(resolve("absent(x)", &[a]).unwrap().ty, EsType::Boolean);
    }
}
