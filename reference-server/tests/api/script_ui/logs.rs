//! No secret of the script login UI in the logs: the binary runs with `RUST_LOG=trace`
//! through a sign-in with a wrong password, a correct one, the consent page and
//! Approve, and its output is searched for every password, CSRF token, interaction id
//! and code, plain and form-encoded.

use super::*;

/// With RUST_LOG=trace, the script UI's passwords, CSRF tokens, interaction ids and
/// codes appear nowhere in the server's output.
#[tokio::test]
async fn trace_logs_hold_no_secret_of_the_script_ui() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = BinaryServer::spawn_with(
        fresh_database(dir.path(), "db.sqlite"),
        &dir.path().join("log"),
        "trace",
        &["--login-ui", "script"],
        &[],
    )
    .await;
    let base = server.base.clone();
    let b = Browser::at(&base);
    let send = |path: &str, fields: Vec<(String, String)>| {
        let rb = b.http.post(format!("{base}{path}")).form(&fields);
        async move { Reply::read(rb.send().await.unwrap()).await }
    };
    let mut secrets = vec![
        ALICE_PASSWORD.to_owned(),
        "wrong-password-for-the-log".to_owned(),
    ];
    let page = b.open(&pairs(&basic_request("s"))).await;
    secrets.push(meta(&page.text, "csrf-token").unwrap());
    let wrong = sign_in_fields(&page, ALICE, "wrong-password-for-the-log");
    assert_eq!(send(LOGIN_API, wrong).await.status, 400);
    let right = sign_in_fields(&page, ALICE, ALICE_PASSWORD);
    let next = next_of(&send(LOGIN_API, right).await);
    let consent = Reply::read(b.http.get(format!("{base}{next}")).send().await.unwrap()).await;
    assert_eq!(consent.status, 200, "{}", consent.text);
    secrets.push(meta(&consent.text, "interaction").unwrap());
    secrets.push(meta(&consent.text, "csrf-token").unwrap());
    let answer = send(CONSENT, consent_fields(&consent, "approve")).await;
    secrets.push(Callback::from_url(next_of(&answer)).code());

    server.terminate().await;
    let log = server.log_text();
    assert!(log.contains("TRACE reference_server"), "logging was off");
    for s in &secrets {
        assert!(s.len() >= 8, "too short to search for");
        for form in [s.clone(), form_encode(s)] {
            assert!(
                !log.contains(&form),
                "a secret ({} chars) is in the log",
                s.len()
            );
        }
    }
}
