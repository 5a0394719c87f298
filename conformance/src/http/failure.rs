//! Why a request got no usable response, in words a report can show: timed out, could
//! not connect, the connection closed early, or the answer is not valid HTTP/1.1.

use std::error::Error as _;
use std::time::Duration;

/// `1 s`, `2.5 s`.
pub fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Describes a failed request: `status` is `None` when no response head came, else the
/// status whose body could not be read.
pub fn reason(e: &reqwest::Error, timeout: Duration, status: Option<u16>) -> String {
    let after = status.map_or(String::new(), |s| format!("status {s}, then "));
    let chain = chain(e);
    if e.is_timeout() {
        return match status {
            None => format!("timed out: no response within {}", seconds(timeout)),
            Some(_) => format!(
                "{after}timed out: the body did not finish within {}",
                seconds(timeout)
            ),
        };
    }
    if e.is_connect() {
        return format!("could not connect ({chain})");
    }
    // hyper wraps its errors (a canceled request carries the closed connection that
    // caused it), so the whole chain is searched.
    for h in sources(e).filter_map(|s| s.downcast_ref::<hyper::Error>()) {
        if h.is_parse() || h.is_parse_status() || h.is_parse_too_large() {
            return format!("{after}the answer is not valid HTTP/1.1 ({h})");
        }
        if h.is_incomplete_message() {
            return closed(status, &h.to_string());
        }
    }
    let io = sources(e).find_map(|s| s.downcast_ref::<std::io::Error>());
    if let Some(io) = io {
        use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
        if matches!(
            io.kind(),
            BrokenPipe | ConnectionAborted | ConnectionReset | UnexpectedEof
        ) {
            return closed(status, &io.to_string());
        }
    }
    format!("{after}request failed: {chain}")
}

/// The peer closed (or reset) the connection before the response was complete.
fn closed(status: Option<u16>, detail: &str) -> String {
    match status {
        None => format!("the connection closed before a response came ({detail})"),
        Some(s) => {
            format!(
                "status {s}, then the connection closed before the body was complete ({detail})"
            )
        }
    }
}

/// The error and its sources.
fn sources<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |x: &&'a (dyn std::error::Error + 'static)| {
        (*x).source()
    })
}

/// Every message of the chain, joined with `: ` (the caller drops the error's URL first:
/// it shows the URL itself, redacted).
fn chain(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whole seconds print without a fraction, others with one decimal.
    #[test]
    fn seconds_read_naturally() {
        assert_eq!(seconds(Duration::from_secs(10)), "10 s");
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5 s");
    }
}
