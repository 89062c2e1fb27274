//! What changed between the record a container was made from (its ownership label's text)
//! and the record DNS has now, for a person about to approve a replace: the arguments
//! removed and added, split as the `docker run` grammar splits them. Pure; decides nothing.

/// The difference as lines: `- ARGS` for a run of arguments only the old text has, `+ ARGS`
/// for one only the new text has, in order. A JSON spec (or a text that does not split) is
/// compared whole. Equal texts have no lines.
pub fn lines(old: &str, new: &str) -> Vec<String> {
    if old == new {
        return Vec::new();
    }
    let (Some(a), Some(b)) = (
        crate::container::arguments(old),
        crate::container::arguments(new),
    ) else {
        return vec![format!("- {old}"), format!("+ {new}")];
    };
    let mut out = Vec::new();
    let (mut removed, mut added): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    let flush = |out: &mut Vec<String>, removed: &mut Vec<&str>, added: &mut Vec<&str>| {
        if !removed.is_empty() {
            out.push(format!("- {}", removed.join(" ")));
        }
        if !added.is_empty() {
            out.push(format!("+ {}", added.join(" ")));
        }
        removed.clear();
        added.clear();
    };
    for step in align(&a, &b) {
        match step {
            Edit::Same => flush(&mut out, &mut removed, &mut added),
            Edit::Removed(x) => removed.push(x),
            Edit::Added(x) => added.push(x),
        }
    }
    flush(&mut out, &mut removed, &mut added);
    out
}

enum Edit<'a> {
    Same,
    Removed(&'a str),
    Added(&'a str),
}

/// A shortest edit from `a` to `b` (longest common subsequence; records are short).
fn align<'a>(a: &'a [String], b: &'a [String]) -> Vec<Edit<'a>> {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = match a[i] == b[j] {
                true => lcs[i + 1][j + 1] + 1,
                false => lcs[i + 1][j].max(lcs[i][j + 1]),
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push(Edit::Same);
            (i, j) = (i + 1, j + 1);
        } else if j < m && (i == n || lcs[i][j + 1] > lcs[i + 1][j]) {
            out.push(Edit::Added(&b[j]));
            j += 1;
        } else {
            out.push(Edit::Removed(&a[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::lines;

    #[test]
    fn the_changed_arguments_as_the_grammar_splits_them() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "-e A=1 --network none img sleep 60",
                "-e A=2 -e B=3 --network none img sleep 60",
                &["- -e A=1", "+ -e A=2 -e B=3"],
            ),
            ("--rm img", "--rm img:2", &["- img", "+ img:2"]),
            (
                "img sh -c 'echo hi'",
                "-p 80:80 img sh -c 'echo ho'",
                &["+ -p 80:80", "- 'echo hi'", "+ 'echo ho'"],
            ),
            ("-d img", "img", &["- -d"]),
            ("img", "img", &[]),
            (
                r#"{"Image":"a"}"#,
                r#"{"Image":"b"}"#,
                &[r#"- {"Image":"a"}"#, r#"+ {"Image":"b"}"#],
            ),
        ];
        for (old, new, want) in cases {
            assert_eq!(lines(old, new), *want, "{old} → {new}");
        }
    }
}
