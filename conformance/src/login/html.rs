//! Just enough HTML reading to drive ordinary login and consent forms: forms, their
//! inputs and buttons. Tolerant of sloppy markup; no scripts are run.

/// A form on a page.
#[derive(Debug, Clone, Default)]
pub struct Form {
    /// `action` attribute (empty: the page's own URL).
    pub action: String,
    /// `method`, lower-cased (`get` by default).
    pub method: String,
    /// Inputs, in document order.
    pub inputs: Vec<Input>,
    /// Submit buttons (`<button>` and `<input type=submit>`).
    pub buttons: Vec<Button>,
}

/// An `<input>`, `<select>` or `<textarea>`.
#[derive(Debug, Clone)]
pub struct Input {
    /// `name`.
    pub name: String,
    /// `type`, lower-cased (`text` by default).
    pub kind: String,
    /// `value`.
    pub value: String,
    /// Whether a checkbox or radio is checked.
    pub checked: bool,
}

/// A submit button.
#[derive(Debug, Clone)]
pub struct Button {
    /// `name`, if any.
    pub name: Option<String>,
    /// `value`.
    pub value: String,
    /// The visible text (or the value for `<input type=submit>`).
    pub text: String,
}

impl Form {
    /// Whether the form has a password input.
    pub fn has_password(&self) -> bool {
        self.inputs.iter().any(|i| i.kind == "password")
    }
}

/// Finds every form of a page.
pub fn forms(html: &str) -> Vec<Form> {
    let mut forms = Vec::new();
    let mut current: Option<Form> = None;
    let mut pos = 0;
    while let Some(start) = html[pos..].find('<').map(|i| i + pos) {
        let Some(end) = tag_end(html, start) else {
            break;
        };
        let tag = &html[start + 1..end];
        pos = end + 1;
        let (name, attrs) = split_tag(tag);
        match name.as_str() {
            "form" => {
                if let Some(f) = current.take() {
                    forms.push(f);
                }
                current = Some(Form {
                    action: attr(&attrs, "action").unwrap_or_default(),
                    method: attr(&attrs, "method")
                        .unwrap_or_else(|| "get".into())
                        .to_ascii_lowercase(),
                    ..Form::default()
                });
            }
            "/form" => {
                if let Some(f) = current.take() {
                    forms.push(f);
                }
            }
            "input" => {
                if let Some(f) = current.as_mut() {
                    let kind = attr(&attrs, "type")
                        .unwrap_or_else(|| "text".into())
                        .to_ascii_lowercase();
                    let value = attr(&attrs, "value").unwrap_or_default();
                    let name = attr(&attrs, "name");
                    if kind == "submit" || kind == "image" {
                        f.buttons.push(Button {
                            name,
                            text: value.clone(),
                            value,
                        });
                    } else if let Some(name) = name {
                        f.inputs.push(Input {
                            name,
                            kind,
                            value,
                            checked: has_attr(&attrs, "checked"),
                        });
                    }
                }
            }
            "button" => {
                let close = html[pos..].find("</button").map_or(html.len(), |i| i + pos);
                let text = strip_tags(&html[pos..close]);
                if let Some(f) = current.as_mut() {
                    let kind = attr(&attrs, "type")
                        .unwrap_or_else(|| "submit".into())
                        .to_ascii_lowercase();
                    if kind == "submit" {
                        f.buttons.push(Button {
                            name: attr(&attrs, "name"),
                            value: attr(&attrs, "value").unwrap_or_default(),
                            text: text.trim().to_owned(),
                        });
                    }
                }
            }
            "textarea" | "select" => {
                if let (Some(f), Some(name)) = (current.as_mut(), attr(&attrs, "name")) {
                    f.inputs.push(Input {
                        name,
                        kind: "text".to_owned(),
                        value: String::new(),
                        checked: false,
                    });
                }
            }
            _ => {}
        }
    }
    if let Some(f) = current.take() {
        forms.push(f);
    }
    forms
}

/// The name of the first tag of a page that has the attribute `name`, if any.
pub fn tag_with_attribute(html: &str, name: &str) -> Option<String> {
    let mut pos = 0;
    while let Some(start) = html[pos..].find('<').map(|i| i + pos) {
        let end = tag_end(html, start)?;
        let (tag, attrs) = split_tag(&html[start + 1..end]);
        if has_attr(&attrs, name) {
            return Some(tag);
        }
        pos = end + 1;
    }
    None
}

/// Where the tag starting at `start` ends: the first `>` outside an attribute value.
/// As in HTML's tokenizer, a quote opens a value only right after `=` (and spaces); a
/// quote anywhere else is part of a name.
fn tag_end(html: &str, start: usize) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'>' => return Some(i),
            b'=' => {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                if let Some(&q) = bytes.get(i).filter(|&&b| b == b'"' || b == b'\'') {
                    i += 1;
                    while i < bytes.len() && bytes[i] != q {
                        i += 1;
                    }
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    None
}

fn split_tag(tag: &str) -> (String, Vec<(String, String)>) {
    let tag = tag.trim_end_matches('/');
    let name_end = tag.find(|c: char| c.is_whitespace()).unwrap_or(tag.len());
    let name = tag[..name_end].to_ascii_lowercase();
    let mut attrs = Vec::new();
    let rest = &tag[name_end..];
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let k0 = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'=' {
            i += 1;
        }
        if k0 == i {
            i += 1;
            continue;
        }
        let key = rest[k0..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let value = if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let q = bytes[i];
                let v0 = i + 1;
                i = v0;
                while i < bytes.len() && bytes[i] != q {
                    i += 1;
                }
                let v = &rest[v0..i.min(rest.len())];
                i += 1;
                v
            } else {
                let v0 = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                &rest[v0..i]
            };
            attrs.push((key, unescape(value)));
        } else {
            attrs.push((key, String::new()));
        }
    }
    (name, attrs)
}

fn attr(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn has_attr(attrs: &[(String, String)], name: &str) -> bool {
    attrs.iter().any(|(k, _)| k == name)
}

/// Text without tags, entities decoded.
pub fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(&out)
}

/// Decodes the common HTML entities.
pub fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(semi) = rest.find(';').filter(|&j| j <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse::<u32>().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs, hidden values with entities, and both button kinds are found.
    #[test]
    fn reads_a_login_form() {
        let html = r#"<html><form method="POST" action="/login?x=1&amp;y=2">
            <input type=hidden name="csrf" value="a&quot;b">
            <input type="email" name="email"><input type="password" name="pw">
            <button type="submit" name="action" value="approve">Approve <b>now</b></button>
            <input type="submit" value="Deny"></form>"#;
        let f = forms(html);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].action, "/login?x=1&y=2");
        assert_eq!(f[0].method, "post");
        assert!(f[0].has_password());
        assert_eq!(f[0].inputs[0].value, "a\"b");
        assert_eq!(f[0].buttons[0].text, "Approve now");
        assert_eq!(f[0].buttons[1].value, "Deny");
    }

    /// A value written into an attribute unescaped opens a tag of its own; escaped, it
    /// stays text.
    #[test]
    fn finds_an_injected_attribute() {
        let injected = r#"<input type="hidden" name="state" value=""><i data-injected>">"#;
        assert_eq!(
            tag_with_attribute(injected, "data-injected").as_deref(),
            Some("i")
        );
        let single = r#"<input type='hidden' value=''><i data-injected>'>"#;
        assert_eq!(
            tag_with_attribute(single, "data-injected").as_deref(),
            Some("i")
        );
        let escaped =
            r#"<input type="hidden" name="state" value="&quot;&gt;&lt;i data-injected&gt;">"#;
        assert_eq!(tag_with_attribute(escaped, "data-injected"), None);
        assert_eq!(
            tag_with_attribute("<p>&lt;i data-injected&gt;</p>", "data-injected"),
            None
        );
    }
}
