//! Request signing: the `Upstash-Signature` JWT.
