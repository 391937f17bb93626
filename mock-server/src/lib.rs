//! A deterministic QStash emulator with a controllable clock.

pub mod delivery;
pub mod engine;
pub mod rules;
pub mod signing;
pub mod clock;
pub mod sinks;
