//! The README's sequence: password grant, /api/me, refresh, revoke, /api/me refused.

use crate::common::*;

/// The whole seed flow works end to end and revocation takes effect at the resource.
#[tokio::test]
async fn password_me_refresh_revoke_me() {
    let s = TestServer::start().await;
    let t = s.alice_tokens().await;
    let at = t["access_token"].as_str().unwrap();
    let rt = t["refresh_token"].as_str().unwrap();
    let me = s.me(at).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["email"], ALICE);

    let r = s
        .token_basic(
            BASIC_ID,
            BASIC_SECRET,
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let at2 = r.json()["access_token"].as_str().unwrap().to_owned();
    let rt2 = r.json()["refresh_token"].as_str().unwrap().to_owned();

    let r = s
        .revoke_basic(BASIC_ID, BASIC_SECRET, &[("token", &rt2)])
        .await;
    assert_eq!(r.status, 200);
    let me = s.me(&at2).await;
    assert_eq!(me.status, 401);
    assert!(
        me.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
}
