//! Pure rules: durations, retry-delay expressions and backoff.
