//! Saker's benchmark support: [`generator`], the realistic ECS data generator behind `saker gen` and
//! `saker demo`. The benchmarks themselves are scripts under `bench/` run on release builds.
#![warn(missing_docs)]

pub mod generator;
