//! What the HTML reports share: escaping, the page frame with its inline style sheet, verdict
//! classes and the anchors that link a verdict to its transcript.
//!
//! Pages are self-contained: no network, no external scripts, fonts or images.

use std::fmt::Write as _;

use crate::suite::verdict::Verdict;

/// `text` safe inside an element or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The verdict as a class name and `data-verdict` value: `pass`, `non-strict`, `fail`,
/// `error`, `xfail`, `xpass` (as the JSON report spells it).
pub fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::NonStrict => "non-strict",
        Verdict::Fail => "fail",
        Verdict::Error => "error",
        Verdict::Xfail => "xfail",
        Verdict::Xpass => "xpass",
        Verdict::NotImplemented => "not-implemented",
        Verdict::Skipped => "skipped",
    }
}

/// Every verdict in the order summaries list them.
pub const VERDICTS: [Verdict; 8] = [
    Verdict::Pass,
    Verdict::Fail,
    Verdict::NonStrict,
    Verdict::Error,
    Verdict::Xfail,
    Verdict::Xpass,
    Verdict::NotImplemented,
    Verdict::Skipped,
];

/// The anchor of a case (or phase: `random.sequences`, `concurrent.linearizability`) in a
/// run's report, prefixed for a page that holds several runs (`e2-` in the matrix).
pub fn case_anchor(prefix: &str, id: &str) -> String {
    format!("{prefix}case-{id}")
}

/// The anchor of step `n` (from 1) of a case's transcript.
pub fn step_anchor(prefix: &str, id: &str, n: usize) -> String {
    format!("{prefix}case-{id}-step-{n}")
}

/// The style sheet every page carries: verdict colours readable in print and with colour
/// blindness (each verdict is also spelled out in text).
pub const STYLE: &str = r#"
:root { --pass: #1a7f37; --fail: #cf222e; --non-strict: #9a6700; --error: #8250df;
  --xfail: #57606a; --xpass: #bc4c00; --line: #d0d7de; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
  max-width: 1200px; padding: 1rem 1.5rem 4rem; color: #1f2328; background: #fff; }
h1 { font-size: 1.5rem; margin: .5rem 0; } h2 { font-size: 1.2rem; margin-top: 2rem;
  border-bottom: 1px solid var(--line); padding-bottom: .25rem; } h3 { font-size: 1rem; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 12px; }
pre { background: var(--soft); border: 1px solid var(--line); padding: .5rem; overflow-x: auto;
  white-space: pre-wrap; word-break: break-all; margin: .25rem 0; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { border: 1px solid var(--line);
  padding: .2rem .5rem; text-align: left; vertical-align: top; }
a { color: #0969da; }
.verdict { display: inline-block; min-width: 6.5em; text-align: center; font-weight: 600;
  border-radius: 3px; padding: 0 .4em; color: #fff; font-size: 12px; }
.verdict.pass, td.pass { background: var(--pass); } .verdict.fail, td.fail { background: var(--fail); }
.verdict.non-strict, td.non-strict { background: var(--non-strict); }
.verdict.error, td.error { background: var(--error); } .verdict.xfail, td.xfail { background: var(--xfail); }
.verdict.xpass, td.xpass { background: var(--xpass); }
td.pass a, td.fail a, td.non-strict a, td.error a, td.xfail a, td.xpass a { color: #fff; }
td.absent { background: var(--soft); color: #57606a; }
.summary dl { display: grid; grid-template-columns: max-content auto; gap: .1rem 1rem; }
.summary dt { font-weight: 600; } .summary dd { margin: 0; }
.counts { display: flex; gap: .5rem; flex-wrap: wrap; margin: .5rem 0; }
.counts .count { border: 1px solid var(--line); border-radius: 4px; padding: .25rem .75rem; }
.first-difference { background: #ffebe9; border-left: 4px solid var(--fail); }
.muted { color: #57606a; }
details > summary { cursor: pointer; }
"#;

/// A whole page: doctype, charset, title, the style sheet (plus `extra_style`), `body`.
pub fn page(title: &str, extra_style: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + STYLE.len() + 512);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}{extra_style}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        escape(title)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_both_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn verdict_classes_are_the_json_spelling() {
        for verdict in VERDICTS {
            let json = serde_json::to_string(&verdict).expect("serialises");
            assert_eq!(json.trim_matches('"'), verdict_class(verdict));
        }
    }
}
