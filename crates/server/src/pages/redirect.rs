//! Where a page may send the browser back to: a path on this node, never another origin.
//!
//! Invariant: `local_path` accepts a value only if every browser reads it as a path of the
//! current origin. It starts with exactly one `/` followed by a character that is neither `/`
//! nor `\`; it contains no `\`, no `//`, no ASCII control character and no whitespace
//! (browsers drop tabs and newlines from URLs, so `/\t/evil.example` would become
//! `//evil.example`, another host). Every redirect target taken from a request goes
//! through it.

/// `value` if it is a safe local path (see the module header), else `None`.
pub fn local_path(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('/')?;
    let first_ok = match rest.chars().next() {
        None => true,
        Some(c) => c != '/' && c != '\\',
    };
    let clean = !value
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    (first_ok && clean && !value.contains("//")).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn local_paths_pass() {
        for ok in [
            "/",
            "/wallet",
            "/verify/1.2.156.3005.2.X.Y.1.001.F",
            "/wallet/requests?lang=en&x=1",
            "/verify#top",
            "/%09/host", // percent-encoded: a path segment, not a tab
            "/a/b/c",
        ] {
            assert_eq!(local_path(ok), Some(ok), "{ok:?}");
        }
    }

    #[test]
    fn other_origins_and_disguises_fail() {
        for bad in [
            "",
            "wallet",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/\r\n/evil.example",
            "/ /evil.example",
            "/\u{0b}/evil.example",
            "/\u{0c}/evil.example",
            "/\u{00a0}/evil.example",
            "/\u{3000}/evil.example",
            "/\u{7f}/evil.example",
            "/wallet//evil",
            "/wallet\\..\\x",
            "/wallet\0",
            "https://evil.example/",
            "javascript:alert(1)",
            " /wallet",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    proptest::proptest! {
        /// Whatever is accepted stays on this origin once a browser strips tabs and newlines
        /// and reads `\` as `/`.
        #[test]
        fn accepted_values_stay_on_this_origin(s in "[/\\\\\t\n\r a-z.:%0-9]{0,12}") {
            if let Some(p) = local_path(&s) {
                let browser: String = p
                    .chars()
                    .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                    .map(|c| if c == '\\' { '/' } else { c })
                    .collect();
                proptest::prop_assert!(browser.starts_with('/'));
                proptest::prop_assert!(!browser.starts_with("//"));
            }
        }
    }
}
