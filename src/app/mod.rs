//! Orchestration: runs the pipeline slices behind each command, in parallel, under one deadline.

pub mod check;
pub mod probe;
