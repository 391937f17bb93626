//! A deterministic QStash emulator with a controllable clock.
