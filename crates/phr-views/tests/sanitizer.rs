//! The sanitiser: nothing dangerous survives, useful structure does.
mod common;

use phr_views::document::{
    narrative, sanitize_html, tables, to_html, to_plain_text, SafeNode, SafeTag,
};

/// Every text in the tree, concatenated.
fn all_text(nodes: &[SafeNode]) -> String {
    let mut s = String::new();
    for n in nodes {
        match n {
            SafeNode::Text(t) => {
                s.push_str(t);
                s.push('\u{1}');
            }
            SafeNode::Element { children, .. } => s.push_str(&all_text(children)),
        }
    }
    s
}

fn tags(nodes: &[SafeNode], out: &mut Vec<SafeTag>) {
    for n in nodes {
        if let SafeNode::Element { tag, children, .. } = n {
            out.push(*tag);
            tags(children, out);
        }
    }
}

/// Strings that must never appear in the text of a sanitised tree built from an attack (the
/// attack's payload lives in markup that must be dropped).
const PAYLOAD: &[&str] = &[
    "alert",
    "javascript",
    "onerror",
    "onload",
    "onclick",
    "expression",
    "<script",
    "srcdoc",
    "vbscript",
    "data:text",
];

/// (name, input, expected visible text)
const XSS: &[(&str, &str, &str)] = &[
    ("script", "<p>Hi<script>alert(1)</script></p>", "Hi"),
    ("script uppercase", "<SCRIPT>alert(1)</SCRIPT>ok", "ok"),
    ("script mixed case and spaces", "<ScRiPt >alert(1)</sCrIpT\n>ok", "ok"),
    ("script with src", "<script src=https://evil.example/x.js></script>ok", "ok"),
    ("script self-closing is still raw text", "<script/>alert(1)</script>ok", "ok"),
    ("unclosed script eats the rest", "before<script>alert(1)<p>after", "before"),
    ("img onerror", "<img src=x onerror=alert(1)>", ""),
    ("img onerror with alt", "<img src=x alt=\"scan\" onerror=\"alert(1)\">", "scan"),
    ("svg onload", "<svg onload=alert(1)><circle r=1 /></svg>ok", "ok"),
    ("svg with script inside", "<svg><script>alert(1)</script><text>t</text></svg>ok", "ok"),
    ("nested svg", "<svg><svg></svg>alert(1)</svg>ok", "ok"),
    ("math", "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>ok", "ok"),
    ("javascript link", "<a href=\"javascript:alert(1)\">click</a>", "click"),
    ("javascript link obfuscated", "<a href=\" JaVa&#09;ScRiPt&colon;alert(1)\">click</a>", "click"),
    ("javascript link entity-encoded", "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>", "x"),
    ("vbscript and data links", "<a href=\"vbscript:msgbox\">a</a><a href=\"data:text/html;base64,PHNjcmlwdD4=\">b</a>", "ab"),
    ("style element", "<style>body{background:url(javascript:alert(1))}</style>ok", "ok"),
    ("style attribute expression", "<p style=\"width: expression(alert(1))\">ok</p>", "ok"),
    ("style attribute url", "<div style=\"background:url('javascript:alert(1)')\">ok</div>", "ok"),
    ("iframe srcdoc", "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>ok", "ok"),
    ("iframe src", "<iframe src=\"javascript:alert(1)\">fallback alert</iframe>ok", "ok"),
    ("object and embed", "<object data=\"javascript:alert(1)\"><param name=x value=alert></object><embed src=javascript:alert(1)>ok", "ok"),
    ("event handlers on allowed tags", "<b onmouseover=alert(1)>bold</b><td onclick=alert(1)>", "bold"),
    ("unclosed attribute swallows the rest", "<p title=\"x>alert(1)</p><b>still inside", ""),
    ("unclosed tag at end", "ok<img src=x onerror=alert(1)", "ok"),
    ("null bytes", "<scr\0ipt>alert(1)</scr\0ipt>ok<img src=x o\0nerror=alert(1)>", "ok"),
    ("nested noscript mutation", "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">", "\">"),
    ("noscript content", "<noscript><script>alert(1)</script></noscript>ok", "ok"),
    ("template", "<template><img src=x onerror=alert(1)></template>ok", "ok"),
    ("comment hiding a script", "<!--<script>alert(1)</script>-->ok", "ok"),
    ("conditional comment", "<!--[if IE]><script>alert(1)</script><![endif]-->ok", "ok"),
    ("bogus comment", "<!x><?php alert(1) ?></alert(1)>ok", "ok"),
    ("form, input and button", "<form action=javascript:alert(1)><input onfocus=alert(1) autofocus><button>b</button></form>ok", "ok"),
    ("meta refresh and base", "<meta http-equiv=refresh content=\"0;url=javascript:alert(1)\"><base href=javascript:alert(1)//>ok", "ok"),
    ("link stylesheet", "<link rel=stylesheet href=javascript:alert(1)>ok", "ok"),
    ("video and audio", "<video><source onerror=alert(1)></video><audio src=x onerror=alert(1)>fallback alert</audio>ok", "ok"),
    // `<scr<script>` is one tag named "scr<script" (as in browsers); what follows is text.
    ("broken tag name", "<scr<script>ipt>alert(1)</script>ok", "ipt>alert(1)ok"),
    ("xhtml namespaces", "<div xmlns=\"http://www.w3.org/1999/xhtml\"><x:script xmlns:x=\"http://www.w3.org/1999/xhtml\">alert(1)</x:script>ok</div>", "alert(1)ok"),
];

#[test]
fn xss_fixtures() {
    for (name, input, expected) in XSS {
        let nodes = sanitize_html(input);
        let text: String = all_text(&nodes).replace('\u{1}', "");
        assert_eq!(text, *expected, "{name}: visible text");
        let html = to_html(&nodes).to_ascii_lowercase();
        for bad in [
            "<script", "<img", "<svg", "<iframe", "<a ", "<style", "<object", " on", "style=",
            "href", "src=",
        ] {
            assert!(!html.contains(bad), "{name}: {bad} in {html}");
        }
        // In these two the payload is plain text by construction (no markup carries it).
        if !matches!(*name, "xhtml namespaces" | "broken tag name") {
            for p in PAYLOAD {
                assert!(
                    !text.to_ascii_lowercase().contains(p),
                    "{name}: payload {p} survived as text: {text:?}"
                );
            }
        }
        // Serialising and re-sanitising gives the same tree (no mutation on a second pass).
        assert_eq!(sanitize_html(&to_html(&nodes)), nodes, "{name}: idempotent");
    }
}

#[test]
fn namespaced_unknown_elements_are_unwrapped_not_executed() {
    // `x:script` is not `script`; the browser would not run it either when built node by node.
    // Its text is kept as harmless text.
    let nodes = sanitize_html("<x:script>alert(1)</x:script>");
    assert_eq!(nodes, vec![SafeNode::Text("alert(1)".into())]);
}

#[test]
fn entity_encoded_markup_stays_text() {
    let nodes = sanitize_html("&lt;script&gt;alert(1)&lt;/script&gt; &amp;lt;b&amp;gt;");
    assert_eq!(
        nodes,
        vec![SafeNode::Text("<script>alert(1)</script> &lt;b&gt;".into())]
    );
    let html = to_html(&nodes);
    assert_eq!(
        html,
        "&lt;script&gt;alert(1)&lt;/script&gt; &amp;lt;b&amp;gt;"
    );
    // Numeric references to markup characters too.
    let nodes = sanitize_html("&#60;img src=x onerror=alert(1)&#62;");
    assert!(matches!(&nodes[..], [SafeNode::Text(t)] if t.starts_with("<img")));
}

#[test]
fn links_become_text_with_safe_urls_only() {
    let nodes = sanitize_html(
        "<p><a href=\"https://example.org/x?a=1&amp;b=2\">Results</a>, \
         <a href=\"mailto:care@example.org\">mail</a>, <a href=\"https://same.example\">https://same.example</a>, \
         <a href=\"ftp://old\">ftp</a></p>",
    );
    assert_eq!(
        to_plain_text(&nodes),
        "Results (https://example.org/x?a=1&b=2), mail (mailto:care@example.org), https://same.example, ftp"
    );
}

#[test]
fn keeps_structure_and_fixes_broken_html() {
    let nodes = sanitize_html(
        "<h1>Visit</h1><p>First<p>Second <B>bold <I>both</B> italic?</I>\
         <ul><li>one<li>two</ul>\
         <table border=1><tr><th>Test<th>Value<tr><td colspan=\"2\" rowspan=x>n/a</table>\
         <pre>  x  </pre><hr><p>end",
    );
    let mut t = Vec::new();
    tags(&nodes, &mut t);
    assert_eq!(t[0], SafeTag::H1);
    assert_eq!(t.iter().filter(|x| **x == SafeTag::P).count(), 3);
    assert_eq!(t.iter().filter(|x| **x == SafeTag::Li).count(), 2);
    assert!(t.contains(&SafeTag::Table) && t.contains(&SafeTag::Pre) && t.contains(&SafeTag::Hr));
    // Second paragraph closed the first (siblings, not nested).
    assert!(
        matches!(&nodes[1], SafeNode::Element { tag: SafeTag::P, children, .. } if children == &vec![SafeNode::Text("First".into())])
    );
    // Only numeric spans survive, only on cells.
    let html = to_html(&nodes);
    assert!(html.contains("<td colspan=\"2\">n/a</td>"), "{html}");
    assert!(!html.contains("border"));
    let tbl = tables(&nodes);
    assert_eq!(tbl.len(), 1);
    assert_eq!(tbl[0].header, ["Test", "Value"]);
    assert_eq!(tbl[0].rows, [vec!["n/a".to_string()]]);
    let text = to_plain_text(&nodes);
    assert!(
        text.starts_with("Visit\nFirst\nSecond bold both italic?\n• one\n• two\nTest | Value\nn/a"),
        "{text}"
    );
}

#[test]
fn a_head_that_is_never_closed_does_not_hide_the_body() {
    let nodes = sanitize_html(
        "<html><head><title>t</title><meta charset=utf-8><style>p{}</style><body><p>Visible</p>",
    );
    assert_eq!(to_plain_text(&nodes), "Visible");
}

#[test]
fn deep_nesting_is_bounded() {
    let input = "<div>".repeat(10_000) + "deep" + &"</div>".repeat(10_000);
    let nodes = sanitize_html(&input);
    fn depth(n: &[SafeNode]) -> usize {
        n.iter()
            .map(|x| match x {
                SafeNode::Element { children, .. } => 1 + depth(children),
                SafeNode::Text(_) => 0,
            })
            .max()
            .unwrap_or(0)
    }
    assert!(depth(&nodes) <= 65);
    assert_eq!(to_plain_text(&nodes), "deep");
}

#[test]
fn fhir_narrative_of_a_resource() {
    let r = phr_fhir::Resource::from_value(&serde_json::json!({
        "resourceType":"Condition","id":"c",
        "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p><b>Hypertension</b> since 2012 <img src=\"x\" onerror=\"alert(1)\"/></p><script>alert(2)</script></div>"}
    }))
    .unwrap();
    let nodes = narrative(&r).unwrap();
    assert_eq!(to_plain_text(&nodes), "Hypertension since 2012");
    assert!(!to_html(&nodes).contains("img"));
    let none =
        phr_fhir::Resource::from_value(&serde_json::json!({"resourceType":"Condition","id":"c"}))
            .unwrap();
    assert!(narrative(&none).is_none());
}
