//! Strict parsing of `application/x-www-form-urlencoded` bodies and query strings.
//!
//! RFC 6749 §3.1 and §3.2: "Parameters sent without a value MUST be treated as if they
//! were omitted from the request." and "Request and response parameters MUST NOT be
//! included more than once." Malformed percent-encoding and invalid UTF-8 are refused
//! rather than guessed at.

use std::borrow::Cow;

/// Longest parameter list accepted; more is a malformed request.
const MAX_PARAMS: usize = 64;

/// Parsed parameters: each name at most once, empty values dropped. `Debug` shows the
/// names only, since values include passwords and client secrets.
#[derive(Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.pairs.iter().map(|(k, _)| k))
            .finish()
    }
}

/// Why a parameter string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    /// Bad percent-encoding, invalid UTF-8, or too many parameters.
    #[error("the parameters are not valid application/x-www-form-urlencoded UTF-8")]
    Malformed,
    /// A parameter appeared more than once (RFC 6749 §3.1, §3.2).
    #[error("a parameter is repeated")]
    Repeated(String),
}

impl Params {
    /// Parses a form body or query string.
    pub fn parse(input: &[u8]) -> Result<Self, ParamsError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for part in input.split(|b| *b == b'&') {
            if part.is_empty() {
                continue;
            }
            let (name, value) = match part.iter().position(|b| *b == b'=') {
                Some(i) => (&part[..i], &part[i + 1..]),
                None => (part, &b""[..]),
            };
            let name = decode_component(name)?;
            let value = decode_component(value)?;
            if seen.contains(&name) {
                return Err(ParamsError::Repeated(name));
            }
            if seen.len() >= MAX_PARAMS {
                return Err(ParamsError::Malformed);
            }
            seen.push(name.clone());
            if !value.is_empty() {
                pairs.push((name, value));
            }
        }
        Ok(Self { pairs })
    }

    /// The value of a parameter, if present with a value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a parameter is present with a value.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The parameters form-encoded again, leaving out those named in `skip`.
    pub fn encode_without(&self, skip: &[&str]) -> String {
        self.pairs
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A parameter name safe to echo in an error description: known words only.
pub fn printable_name(name: &str) -> Cow<'static, str> {
    if !name.is_empty()
        && name.len() <= 40
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Cow::Owned(name.to_owned())
    } else {
        Cow::Borrowed("(unprintable)")
    }
}

/// Percent-encodes one value for a URL query or form body: everything but the
/// unreserved characters (RFC 3986 §2.3) is escaped.
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Decodes one form component: `+` is a space, `%XX` a byte; the result must be UTF-8.
pub fn decode_component(input: &[u8]) -> Result<String, ParamsError> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = input.get(i + 1).and_then(|b| hex(*b));
                let lo = input.get(i + 2).and_then(|b| hex(*b));
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(ParamsError::Malformed),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ParamsError::Malformed)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plus signs and percent escapes decode; empty values count as omitted.
    #[test]
    fn decodes_and_drops_empty_values() -> Result<(), ParamsError> {
        let p = Params::parse(b"a=x+y%2Bz&b=&c")?;
        assert_eq!(p.get("a"), Some("x y+z"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.get("c"), None);
        Ok(())
    }

    /// A repeated parameter is refused even when one copy is empty.
    #[test]
    fn repeated_is_refused() {
        assert_eq!(
            Params::parse(b"a=1&a=2").err(),
            Some(ParamsError::Repeated("a".into()))
        );
        assert!(Params::parse(b"a=&a=2").is_err());
    }

    /// Broken escapes and invalid UTF-8 are malformed, not guessed.
    #[test]
    fn malformed_is_refused() {
        assert_eq!(Params::parse(b"a=%zz").err(), Some(ParamsError::Malformed));
        assert_eq!(Params::parse(b"a=%4").err(), Some(ParamsError::Malformed));
        assert_eq!(Params::parse(b"a=%ff").err(), Some(ParamsError::Malformed));
    }

    /// Encoding then decoding gives the value back.
    #[test]
    fn encode_round_trip() -> Result<(), ParamsError> {
        let v = "a b+c%d&e=f/é";
        assert_eq!(decode_component(encode_component(v).as_bytes())?, v);
        Ok(())
    }

    /// Debug output lists names, never values.
    #[test]
    fn debug_hides_values() -> Result<(), ParamsError> {
        let p = Params::parse(b"password=hunter2")?;
        assert!(!format!("{p:?}").contains("hunter2"));
        Ok(())
    }
}
