//! Building request paths and query strings.

use std::fmt::Write;

/// Characters left as they are in a path segment (RFC 3986 "unreserved").
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes one path segment, such as a message or DLQ id.
///
/// Destinations are not passed through here: QStash wants them raw.
pub(crate) fn path_segment(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        match is_unreserved(byte) {
            true => encoded.push(char::from(byte)),
            false => {
                let _ = write!(encoded, "%{byte:02X}");
            }
        }
    }
    encoded
}

/// A query string built pair by pair; repeated keys stay repeated.
#[derive(Debug, Default, Clone)]
pub(crate) struct Query {
    pairs: Vec<(&'static str, String)>,
}

impl Query {
    pub(crate) fn new() -> Self {
        Query::default()
    }

    pub(crate) fn push(&mut self, key: &'static str, value: impl ToString) -> &mut Self {
        self.pairs.push((key, value.to_string()));
        self
    }

    pub(crate) fn push_opt(
        &mut self,
        key: &'static str,
        value: Option<impl ToString>,
    ) -> &mut Self {
        if let Some(value) = value {
            self.push(key, value);
        }
        self
    }

    pub(crate) fn push_all<I>(&mut self, key: &'static str, values: I) -> &mut Self
    where
        I: IntoIterator,
        I::Item: ToString,
    {
        for value in values {
            self.push(key, value);
        }
        self
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The encoded query, without the leading `?`.
    pub(crate) fn encode(&self) -> String {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.pairs {
            serializer.append_pair(key, value);
        }
        serializer.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_keep_unreserved_characters_and_encode_the_rest() {
        let encoded = path_segment("msg_a-b.c~d/e f");

        assert_eq!(encoded, "msg_a-b.c~d%2Fe%20f");
    }

    #[test]
    fn a_query_keeps_repeated_keys_in_order() {
        let mut query = Query::new();
        query.push_all("dlqIds", ["a", "b"]).push("count", 10);

        let encoded = query.encode();

        assert_eq!(encoded, "dlqIds=a&dlqIds=b&count=10");
    }
}
