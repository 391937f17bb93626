//! Deterministic identifiers.
//!
//! Every id is derived by hashing the seed with a name that says what the id is for and
//! the counters that make it unique. Nothing here keeps a shared random stream, so the id
//! of one message never depends on how many other things were drawn before it: two runs
//! with the same seed and the same calls give the same ids even when deliveries finish in
//! a different wall-clock order.

use sha2::{Digest, Sha256};

/// Derives 32 pseudo-random bytes from the seed and the given parts.
fn derive(seed: u64, parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_be_bytes());
    for part in parts {
        // The length prefix keeps ("ab", "c") and ("a", "bc") apart.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

fn encode(prefix: &str, bytes: &[u8]) -> String {
    format!("{prefix}{}", bs58::encode(bytes).into_string())
}

/// The id of the `n`-th message created by an API call.
pub(crate) fn message_id(seed: u64, n: u64) -> String {
    encode("msg_", &derive(seed, &[b"message", &n.to_be_bytes()]))
}

/// The id of a callback or failure-callback message derived from `parent`.
pub(crate) fn derived_message_id(seed: u64, parent: &str, role: &str, n: u32) -> String {
    let bytes = derive(
        seed,
        &[
            b"message",
            parent.as_bytes(),
            role.as_bytes(),
            &n.to_be_bytes(),
        ],
    );
    encode("msg_", &bytes)
}

/// The `jti` claim of the signature of one attempt.
pub(crate) fn jwt_id(seed: u64, message_id: &str, retried: u32) -> String {
    let bytes = derive(
        seed,
        &[b"jwt", message_id.as_bytes(), &retried.to_be_bytes()],
    );
    encode("jwt_", &bytes[..20])
}

/// The `n`-th generated signing key.
pub(crate) fn signing_key(seed: u64, n: u64) -> String {
    let bytes = derive(seed, &[b"signing-key", &n.to_be_bytes()]);
    let mut key = encode("sig_", &bytes[..20]);
    key.truncate(32);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_and_counter_give_the_same_message_id() {
        assert_eq!(message_id(7, 1), message_id(7, 1));
        assert!(message_id(7, 1).starts_with("msg_"));
    }

    #[test]
    fn another_seed_or_counter_gives_another_message_id() {
        assert_ne!(message_id(7, 1), message_id(8, 1));
        assert_ne!(message_id(7, 1), message_id(7, 2));
    }

    #[test]
    fn derived_ids_differ_by_role_and_index() {
        let parent = message_id(1, 1);

        let callback = derived_message_id(1, &parent, "callback", 0);
        let failure = derived_message_id(1, &parent, "failure-callback", 0);

        assert_ne!(callback, failure);
        assert_ne!(callback, derived_message_id(1, &parent, "callback", 1));
    }

    #[test]
    fn signing_keys_look_like_upstash_keys() {
        let key = signing_key(42, 0);

        assert!(key.starts_with("sig_"));
        assert_eq!(key.len(), 32);
        assert_ne!(key, signing_key(42, 1));
    }
}
