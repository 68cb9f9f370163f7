//! Text helpers: XML escaping of values and line wrapping by display width.
//!
//! Invariants: [`escape_into`] output is safe in XML text content and in attribute values
//! quoted with `"` or `'` (it escapes `& < > " '` and drops characters XML 1.0 forbids), so
//! a value can never close an element, an attribute or a CDATA section. Display width
//! counts East Asian wide and full-width characters as 2 columns and everything else as 1.

/// Appends `s` to `out`, escaped for XML text and attribute values.
pub(crate) fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

/// `s` escaped for XML (see [`escape_into`]).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(&mut out, s);
    out
}

/// Whether XML 1.0 allows `c` in a document (the `Char` production, minus tab/newline that
/// [`escape_into`] turns into spaces).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Display width of one character in columns: 2 for East Asian wide and full-width
/// characters (hanzi, kana, hangul, CJK punctuation, full-width forms), 1 otherwise.
pub(crate) fn char_width(c: char) -> usize {
    let wide = matches!(c as u32,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x2014 | 0x2018 | 0x2019 | 0x201C | 0x201D | 0x2026 | 0x2030 | 0x203B | 0x2460..=0x24FF
        | 0x20000..=0x3FFFD);
    if wide {
        2
    } else {
        1
    }
}

/// Display width of a string in columns.
pub(crate) fn display_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// Characters that must not start a line (they hang at the end of the previous one).
fn no_line_start(c: char) -> bool {
    "，。、；：？！）》」』】〕〉,.;:?!)]}%…·".contains(c)
}

/// Characters that must not end a line (they move to the next one).
fn no_line_end(c: char) -> bool {
    "（《「『【〔〈([{“‘".contains(c)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.' | '@' | '%' | '+')
}

/// Splits `text` into lines of at most `columns` display columns.
///
/// Hanzi break anywhere, runs of ASCII letters and digits break at a space or a hanzi when
/// the line has one; closing punctuation never starts a line (it may hang one character past
/// the width), opening punctuation never ends one. `\n` forces a break; other whitespace
/// runs count as one space and are dropped at line ends. With `max_lines`, the last kept
/// line ends with `…` when text was cut.
pub(crate) fn wrap(text: &str, columns: usize, max_lines: Option<usize>) -> Vec<String> {
    let columns = columns.max(2);
    let mut lines: Vec<String> = Vec::new();
    for para in text.split('\n') {
        wrap_paragraph(para, columns, &mut lines);
    }
    while lines.last().is_some_and(|l| l.is_empty()) && lines.len() > 1 {
        lines.pop();
    }
    if let Some(max) = max_lines {
        let max = max.max(1);
        if lines.len() > max {
            lines.truncate(max);
            let last = lines.last_mut().expect("max >= 1");
            while !last.is_empty() && display_width(last) + 2 > columns {
                last.pop();
            }
            let trimmed = last.trim_end_matches([' ', '，', '、', '；', '。']).len();
            last.truncate(trimmed);
            last.push('…');
        }
    }
    lines
}

fn wrap_paragraph(para: &str, columns: usize, lines: &mut Vec<String>) {
    // Collapse whitespace runs to one space.
    let mut chars: Vec<char> = Vec::with_capacity(para.len());
    for c in para.trim().chars() {
        let c = if c.is_whitespace() && c != '\u{3000}' {
            ' '
        } else {
            c
        };
        if c == ' ' && chars.last() == Some(&' ') {
            continue;
        }
        chars.push(c);
    }
    if chars.is_empty() {
        lines.push(String::new());
        return;
    }
    let mut start = 0;
    while start < chars.len() {
        // Greedy: take as many characters as fit.
        let mut width = 0;
        let mut end = start;
        while end < chars.len() && width + char_width(chars[end]) <= columns {
            width += char_width(chars[end]);
            end += 1;
        }
        if end < chars.len() {
            // Hang closing punctuation instead of starting a line with it.
            if no_line_start(chars[end]) {
                end += 1;
            } else {
                // Do not split an ASCII word when the line offers an earlier break.
                if is_word_char(chars[end]) && is_word_char(chars[end - 1]) {
                    let mut b = end - 1;
                    while b > start && is_word_char(chars[b - 1]) {
                        b -= 1;
                    }
                    if b > start {
                        end = b;
                    }
                }
                // Move opening punctuation to the next line.
                while end - start > 1 && no_line_end(chars[end - 1]) {
                    end -= 1;
                }
            }
        }
        let line: String = chars[start..end].iter().collect();
        lines.push(line.trim().to_owned());
        start = end;
        while start < chars.len() && chars[start] == ' ' {
            start += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(display_width("营业执照"), 8);
        assert_eq!(display_width("ABC 12"), 6);
        assert_eq!(display_width("（）：，"), 8);
    }

    #[test]
    fn escapes_everything_that_breaks_out() {
        assert_eq!(
            escape("<a href=\"x\">&'</a>]]>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;]]&gt;"
        );
        assert_eq!(escape("a\u{0}b\u{1b}c\u{FFFE}"), "abc");
    }

    #[test]
    fn wraps_cjk_and_words() {
        assert_eq!(wrap("一二三四五六七八", 8, None), ["一二三四", "五六七八"]);
        assert_eq!(wrap("ab cdef", 5, None), ["ab", "cdef"]);
        assert_eq!(wrap("一二三，四", 6, None), ["一二三，", "四"]);
        assert_eq!(wrap("一二（三四", 6, None), ["一二", "（三四"]);
        assert_eq!(
            wrap("一二三四五六七八九十", 6, Some(2)),
            ["一二三", "四五…"]
        );
        assert_eq!(wrap("", 6, None), [""]);
        assert_eq!(wrap("甲\n乙", 6, None), ["甲", "乙"]);
    }
}
