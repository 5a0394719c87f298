//! Request targets in the rarer forms of RFC 9112 §3.2 (authority, asterisk, absolute):
//! each gets an answer, never a dropped connection.

use crate::common::*;

/// Authority-form targets (which made warp's path filter panic) and the asterisk form are 404 with a JSON body.
#[tokio::test]
async fn targets_without_a_path_are_404() {
    let s = TestServer::start().await;
    for line in [
        "CONNECT 127.0.0.1:80 HTTP/1.1",
        "POST *;x=1 HTTP/1.1",
        "GET example.com:443 HTTP/1.1",
        "OPTIONS * HTTP/1.1",
        "GET / HTTP/1.1",
    ] {
        let r = s
            .raw(format!("{line}\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
            .await;
        assert_eq!(r.status, 404, "{line}: {r:?}");
        assert_eq!(r.json()["error"], "not_found", "{line}");
    }
    // The server still serves.
    s.alice(BASIC).await;
}

/// An absolute-form target reaches the endpoint its path names (RFC 9112 §3.2.2).
#[tokio::test]
async fn absolute_form_reaches_the_endpoint() {
    let s = TestServer::start().await;
    let r = s
        .raw(
            format!(
                "GET http://{}/.well-known/oauth-authorization-server HTTP/1.1\r\nHost: x\r\n\
                 Connection: close\r\n\r\n",
                s.addr
            )
            .as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.json()["issuer"].is_string());
}
