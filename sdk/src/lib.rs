//! A typed client for Upstash QStash.
