//! Project automation behind `cargo xtask`, as a library so that its tests drive the
//! same code as the command line.
//!
//! - [`scenario`]: retry and DLQ stories in TOML, played against the mock and reported.

#![warn(missing_docs)]

pub mod scenario;
