//! IP functions: `CIDR_MATCH`.

use super::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use ipnet::IpNet;
use std::net::IpAddr;
use std::sync::Arc;

/// The IP functions.
pub static ALL: &[&ScalarDef] = &[&CIDR_MATCH, &IP_PREFIX];

/// `IP_PREFIX(ip, prefix_length_v4, prefix_length_v6)`: the ip truncated to its network prefix.
pub static IP_PREFIX: ScalarDef = ScalarDef {
    name: "ip_prefix",
    mv_args: false,
    resolve: |call, args| {
        super::expect_arity("ip_prefix", args, 3, 3)?;
        super::expect_type(call, args, 0, &[EsType::Ip], "ip")?;
        super::expect_type(call, args, 1, &[EsType::Integer], "integer")?;
        super::expect_type(call, args, 2, &[EsType::Integer], "integer")?;
        Ok(Resolved::of(EsType::Ip))
    },
    plan: |p| {
        let kernel: Kernel = Arc::new(|args: &[ArrayRef], ctx: &EvalCtx| {
            let n = ctx.rows;
            let ip = args[0].as_fixed_size_binary_opt();
            let v4 = args[1].as_primitive_opt::<datafusion::arrow::datatypes::Int32Type>();
            let v6 = args[2].as_primitive_opt::<datafusion::arrow::datatypes::Int32Type>();
            let mut out: Vec<Option<[u8; 16]>> = Vec::with_capacity(n);
            for row in 0..n {
                let (Some(ip), Some(v4), Some(v6)) = (ip, v4, v6) else {
                    out.push(None);
                    continue;
                };
                if ip.is_null(row) || v4.is_null(row) || v6.is_null(row) {
                    out.push(None);
                    continue;
                }
                let (l4, l6) = (v4.value(row), v6.value(row));
                if !(0..=32).contains(&l4) {
                    ctx.sink.null_because(&format!(
                        "java.lang.IllegalArgumentException: Prefix length v4 must be in range [0, 32], found {l4}"
                    ));
                    out.push(None);
                    continue;
                }
                if !(0..=128).contains(&l6) {
                    ctx.sink.null_because(&format!(
                        "java.lang.IllegalArgumentException: Prefix length v6 must be in range [0, 128], found {l6}"
                    ));
                    out.push(None);
                    continue;
                }
                let mut b = [0u8; 16];
                b.copy_from_slice(&ip.value(row)[..16]);
                let x = u128::from_be_bytes(b);
                let is_v4 = b[..12] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
                let keep = if is_v4 { 96 + l4 as u32 } else { l6 as u32 };
                let mask = if keep == 0 { 0 } else { u128::MAX << (128 - keep) };
                let mut y = x & mask;
                if is_v4 {
                    // Keep the IPv4-mapped marker bits.
                    y |= 0xffff_u128 << 32;
                }
                out.push(Some(y.to_be_bytes()));
            }
            let arr =
                datafusion::arrow::array::FixedSizeBinaryArray::try_from_sparse_iter_with_size(out.into_iter(), 16)?;
            Ok(Arc::new(arr) as ArrayRef)
        });
        Ok(udf::call("ip_prefix", EsType::Ip.arrow(), p.sink, p.args, kernel))
    },
};

/// `CIDR_MATCH(ip, block1, block2, ...)`: true when the ip is in any of the blocks.
pub static CIDR_MATCH: ScalarDef =
    ScalarDef { name: "cidr_match", mv_args: true, resolve: resolve_cidr, plan: plan_cidr };

fn resolve_cidr(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    super::expect_arity("cidr_match", args, 2, usize::MAX)?;
    super::expect_type(call, args, 0, &[EsType::Ip], "ip")?;
    for i in 1..args.len() {
        super::expect_type(call, args, i, super::sets::STRING, "keyword or text")?;
    }
    Ok(Resolved { ty: EsType::Boolean, multi: false, casts: Vec::new() })
}

/// A parsed block: 16-byte network and prefix length in the IPv6 space.
#[derive(Clone, Copy)]
struct Block {
    net: u128,
    mask: u128,
}

fn parse_block(s: &str) -> Option<Block> {
    let s = s.trim();
    let (addr, len): (IpAddr, u8) = match s.parse::<IpNet>() {
        Ok(n) => (n.network(), n.prefix_len()),
        Err(_) => {
            let a: IpAddr = s.parse().ok()?;
            let l = if a.is_ipv4() { 32 } else { 128 };
            (a, l)
        }
    };
    let (bits, len) = match addr {
        IpAddr::V4(v4) => (u128::from_be_bytes(v4.to_ipv6_mapped().octets()), u32::from(len) + 96),
        IpAddr::V6(v6) => (u128::from_be_bytes(v6.octets()), u32::from(len)),
    };
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
    Some(Block { net: bits & mask, mask })
}

fn plan_cidr(p: PlanArgs) -> Result<Expr> {
    // Constant blocks are parsed once; others per row.
    let consts: Vec<Option<Option<Block>>> = p
        .literals
        .iter()
        .skip(1)
        .map(|l| match l {
            Some(crate::ir::Literal::String(s)) => Some(parse_block(s)),
            _ => None,
        })
        .collect();
    let kernel: Kernel = Arc::new(move |args: &[ArrayRef], ctx: &EvalCtx| {
        let ip = &args[0];
        let blocks_at = |row: usize| -> Vec<Block> {
            let mut v = Vec::new();
            for (k, a) in args[1..].iter().enumerate() {
                match consts.get(k) {
                    Some(Some(Some(b))) => v.push(*b),
                    Some(Some(None)) => {}
                    _ => {
                        if let Some(s) = a.as_string_opt::<i32>()
                            && s.is_valid(row)
                            && let Some(b) = parse_block(s.value(row))
                        {
                            v.push(b);
                        }
                    }
                }
            }
            v
        };
        let all_const = consts.iter().all(|c| c.is_some());
        let fixed = if all_const { blocks_at(0) } else { Vec::new() };
        let test = |bytes: &[u8], blocks: &[Block]| {
            let mut b = [0u8; 16];
            b.copy_from_slice(&bytes[..16]);
            let x = u128::from_be_bytes(b);
            blocks.iter().any(|bl| x & bl.mask == bl.net)
        };
        let mut out = Vec::with_capacity(ctx.rows);
        if let Some(list) = ip.as_list_opt::<i32>() {
            // A multi-valued ip matches when any value matches.
            let values = list.values().as_fixed_size_binary();
            let offs = list.value_offsets();
            for row in 0..list.len() {
                if list.is_null(row) {
                    out.push(None);
                    continue;
                }
                let blocks = if all_const { fixed.clone() } else { blocks_at(row) };
                let m = (offs[row] as usize..offs[row + 1] as usize)
                    .any(|j| values.is_valid(j) && test(values.value(j), &blocks));
                out.push(Some(m));
            }
        } else if ip.data_type() == &datafusion::arrow::datatypes::DataType::Null {
            out = vec![None; ip.len()];
        } else {
            let ips = ip
                .as_fixed_size_binary_opt()
                .ok_or_else(|| DataFusionError::Internal("cidr_match on a non-ip array".into()))?;
            for row in 0..ips.len() {
                if ips.is_null(row) {
                    out.push(None);
                } else if all_const {
                    out.push(Some(test(ips.value(row), &fixed)));
                } else {
                    out.push(Some(test(ips.value(row), &blocks_at(row))));
                }
            }
        }
        Ok(Arc::new(BooleanArray::from(out)) as ArrayRef)
    });
    Ok(udf::call("cidr_match", datafusion::arrow::datatypes::DataType::Boolean, p.sink, p.args, kernel))
}
