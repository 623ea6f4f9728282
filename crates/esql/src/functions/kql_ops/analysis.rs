//! Text analysis for `text` fields: an approximation of Elasticsearch's `standard` analyzer.
//!
//! The standard analyzer splits text into words by Unicode's word-boundary rules (UAX #29), keeps
//! the words holding a letter or digit, splits words longer than 255 characters, and lower-cases
//! each character. `unicode-segmentation` implements the same UAX #29 rules as Lucene's
//! `StandardTokenizer`, so `foo.bar`, `3.14`, `don't` and `snake_case` stay one token while
//! `C:\Windows\System32` gives `c`, `windows`, `system32`.
//!
//! Deviation: Lucene emits each ideographic/Hiragana character and each emoji as its own token,
//! and lower-cases a few characters differently (Java's per-code-point `toLowerCase`).

use unicode_segmentation::UnicodeSegmentation;

/// The longest token the standard tokenizer emits; longer words are split.
const MAX_TOKEN_CHARS: usize = 255;

/// The tokens of `text`, in order.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.unicode_words() {
        let lower: Vec<char> = word.chars().flat_map(char::to_lowercase).collect();
        for chunk in lower.chunks(MAX_TOKEN_CHARS) {
            out.push(chunk.iter().collect());
        }
    }
    out
}

/// Lower-cases a term or wildcard pattern as the standard analyzer normalizes query terms.
pub fn normalize(term: &str) -> String {
    term.chars().flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_the_standard_tokenizer() {
        assert_eq!(tokens("Hello, World!"), ["hello", "world"]);
        assert_eq!(
            tokens(r"C:\Windows\System32\cmd.exe /c whoami"),
            ["c", "windows", "system32", "cmd.exe", "c", "whoami"]
        );
        assert_eq!(tokens("foo.bar 3.14 don't snake_case"), ["foo.bar", "3.14", "don't", "snake_case"]);
        assert_eq!(tokens("-- ** --"), Vec::<String>::new());
        assert_eq!(tokens(&"a".repeat(300)).len(), 2);
    }
}
