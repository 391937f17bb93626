//! Header names as QStash shows them.

/// A header name in the canonical form Go's `net/http` gives it, which QStash shows in
/// its message views: the first letter and each letter after a `-` upper case, the rest
/// lower case (`x-trace-id` becomes `X-Trace-Id`). A name with a byte that is not a
/// token character stays as it is, as in Go.
pub fn canonical_header_name(name: &str) -> String {
    let is_token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(is_token) {
        return name.to_owned();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_take_the_canonical_form_of_go() {
        assert_eq!(canonical_header_name("x-trace-id"), "X-Trace-Id");
        assert_eq!(canonical_header_name("CONTENT-TYPE"), "Content-Type");
        assert_eq!(
            canonical_header_name("upstash-retry-delay"),
            "Upstash-Retry-Delay"
        );
    }

    #[test]
    fn a_name_with_a_non_token_byte_stays_as_it_is() {
        assert_eq!(canonical_header_name("x trace"), "x trace");
        assert_eq!(canonical_header_name(""), "");
    }
}
