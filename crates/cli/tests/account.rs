//! `elicense account disable|enable` against a running demo node on the same data dir: the
//! next request of an existing session is signed out at once, and enabling does not revive it.

mod common;

use common::*;

/// The demo's password of `user`, from its banner (`  zhangwei / PASSWORD  张伟, ...`).
fn demo_password(banner: &str, user: &str) -> String {
    banner
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(&format!("{user} / ")))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no password of {user} in:\n{banner}"))
        .to_owned()
}

fn cookie_of(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// Signs in through the sign-in page as a browser would; the session cookie, if any.
async fn sign_in(
    client: &reqwest::Client,
    url: &str,
    user: &str,
    password: &str,
) -> Option<String> {
    let resp = client
        .get(format!("{url}/wallet/login"))
        .send()
        .await
        .unwrap();
    let pre = cookie_of(&resp, "elicense_presession").expect("a pre-session cookie");
    let html = resp.text().await.unwrap();
    let marker = r#"name="csrf" value=""#;
    let rest = &html[html.find(marker).expect("a token in the form") + marker.len()..];
    let token = &rest[..rest.find('"').unwrap()];
    let resp = client
        .post(format!("{url}/wallet/login"))
        .header("cookie", pre)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username={user}&password={password}&csrf={token}"))
        .send()
        .await
        .unwrap();
    cookie_of(&resp, "elicense_session")
}

/// The status of the wallet page for a session cookie (200 signed in, 303 signed out).
async fn wallet(client: &reqwest::Client, url: &str, cookie: &str) -> u16 {
    client
        .get(format!("{url}/wallet"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_an_account_signs_out_its_sessions_on_the_running_node() {
    let port = free_port();
    let d = DataDir::empty();
    let server = Server::demo(&d, port);
    let url = server.url.clone();
    let password = demo_password(&server.proc.stdout(), "zhangwei");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = sign_in(&client, &url, "zhangwei", &password)
        .await
        .expect("signed in");
    assert_eq!(wallet(&client, &url, &cookie).await, 200);

    run(&["account", "disable", "--data", d.data(), "zhangwei"]).ok();
    assert_eq!(
        wallet(&client, &url, &cookie).await,
        303,
        "signed out at once"
    );
    assert!(sign_in(&client, &url, "zhangwei", &password)
        .await
        .is_none());

    run(&["account", "enable", "--data", d.data(), "zhangwei"]).ok();
    assert_eq!(
        wallet(&client, &url, &cookie).await,
        303,
        "enabling does not revive the old session"
    );
    let again = sign_in(&client, &url, "zhangwei", &password)
        .await
        .expect("signed in again");
    assert_eq!(wallet(&client, &url, &again).await, 200);

    let out = run(&["account", "disable", "--data", d.data(), "nobody"]);
    out.expect_code(2);
    assert!(out.stderr.contains("account.not_found"), "{out:?}");
    drop(server);
}
