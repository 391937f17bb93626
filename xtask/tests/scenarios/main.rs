//! Black-box tests of `cargo xtask scenario(s)`: the built-in library with its reports
//! pinned, errors in malformed files, and the same report against a separate mock.

mod errors;
mod library;
mod reports;
mod support;
mod target;
