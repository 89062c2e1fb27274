//! Splitting a record's text into words the way a POSIX shell would, without any expansion:
//! quotes and backslashes are honoured; `$`, globs, `~`, `;` and `#` (no comments) are plain
//! characters.
//! Owns only the splitting; knows nothing about docker flags.

use super::SpecError;

/// Split `text` into words: whitespace separates, `'…'` is literal, `"…"` lets a backslash
/// escape only `"` `\` `$` `` ` `` and newline (as in sh), a backslash outside quotes escapes
/// any character, and backslash-newline is a line continuation.
pub fn split(text: &str) -> Result<Vec<String>, SpecError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word exists once any of its characters (or an empty pair of quotes) has been seen.
    let mut in_word = false;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => match chars.next() {
                Some((_, '\n')) => {}
                Some((_, escaped)) => {
                    word.push(escaped);
                    in_word = true;
                }
                None => {
                    return Err(SpecError(format!(
                        "a backslash ends the text at {} (nothing to escape)",
                        position(text, at)
                    )));
                }
            },
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '\'')) => break,
                        Some((_, inner)) => word.push(inner),
                        None => return Err(unbalanced(text, at, '\'')),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.peek() {
                            Some(&(_, '\n')) => {
                                chars.next();
                            }
                            Some(&(_, next @ ('"' | '\\' | '$' | '`'))) => {
                                word.push(next);
                                chars.next();
                            }
                            _ => word.push('\\'),
                        },
                        Some((_, inner)) => word.push(inner),
                        None => return Err(unbalanced(text, at, '"')),
                    }
                }
            }
            other => {
                word.push(other);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        return Err(SpecError("the record is empty: it names no image".into()));
    }
    Ok(words)
}

fn unbalanced(text: &str, at: usize, quote: char) -> SpecError {
    SpecError(format!(
        "unbalanced {quote} quote: the one opened at {} is never closed",
        position(text, at)
    ))
}

/// "byte N (line L, column C)", columns counted in characters from 1.
fn position(text: &str, at: usize) -> String {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("byte {at} (line {line}, column {column})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_sh() {
        let cases: &[(&str, &[&str])] = &[
            ("a b  c", &["a", "b", "c"]),
            ("  a\tb\nc  ", &["a", "b", "c"]),
            ("'a b' c", &["a b", "c"]),
            ("\"a b\" c", &["a b", "c"]),
            ("a'b'\"c\"d", &["abcd"]),
            ("''", &[""]),
            ("a '' b", &["a", "", "b"]),
            ("\"\"", &[""]),
            (r"a\ b", &["a b"]),
            (r"a\'b", &["a'b"]),
            (r"\$HOME", &["$HOME"]),
            ("$HOME ~ *", &["$HOME", "~", "*"]),
            (r#""a\"b""#, &["a\"b"]),
            (r#""a\\b""#, &[r"a\b"]),
            (r#""a\$b""#, &["a$b"]),
            (r#""a\`b""#, &["a`b"]),
            (r#""a\nb""#, &[r"a\nb"]),
            (r#""a\xb""#, &[r"a\xb"]),
            (r"'a\b'", &[r"a\b"]),
            ("'it''s'", &["its"]),
            ("a\\\nb", &["ab"]),
            ("\"a\\\nb\"", &["ab"]),
            ("'a\nb'", &["a\nb"]),
            (
                "sh -c 'echo \"hi there\"; exit 1'",
                &["sh", "-c", "echo \"hi there\"; exit 1"],
            ),
            ("héllo 'wörld ✓'", &["héllo", "wörld ✓"]),
            ("a;b|c", &["a;b|c"]),
            (
                "echo #1 # not a comment",
                &["echo", "#1", "#", "not", "a", "comment"],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(split(text).unwrap(), *want, "{text:?}");
        }
    }

    #[test]
    fn errors_name_the_place() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("   \n\t", "empty"),
            (
                "a 'b",
                "' quote: the one opened at byte 2 (line 1, column 3)",
            ),
            (
                "a \"b",
                "\" quote: the one opened at byte 2 (line 1, column 3)",
            ),
            ("x\né \"b", "byte 5 (line 2, column 3)"),
            ("a\\", "backslash ends the text at byte 1"),
            ("\"a\\\"", "\" quote"),
        ];
        for (text, want) in cases {
            let err = split(text).unwrap_err().0;
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
