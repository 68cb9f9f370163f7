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

/// The page's body for a session cookie (signed in).
async fn wallet_page(client: &reqwest::Client, url: &str, cookie: &str) -> String {
    let resp = client
        .get(format!("{url}/wallet"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

/// `elicense account add` for a person whose ID card was checked at the counter.
fn account_add(d: &DataDir, username: &str, name: &str, resident_id: &str) -> Out {
    run(&[
        "account",
        "add",
        "--data",
        d.data(),
        "--username",
        username,
        "--name",
        name,
        "--resident-id",
        resident_id,
    ])
}

/// The password a command printed on stderr (`... shown only this once: PASSWORD`).
fn shown_password(out: &Out) -> String {
    out.stderr
        .lines()
        .find_map(|l| l.split_once("shown only this once: ").map(|x| x.1.trim()))
        .unwrap_or_else(|| panic!("no password shown:\n{out:?}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_makes_an_account_at_the_counter_and_resets_its_password() {
    let port = free_port();
    let d = DataDir::empty();
    let server = Server::demo(&d, port);
    let url = server.url.clone();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // 张伟's ID card, checked at the counter: the account sees his licenses.
    let out = account_add(&d, "zhang-counter", "张伟", "11010519491231002X");
    out.ok();
    let made = out.json();
    assert_eq!(made["username"], "zhang-counter");
    assert_eq!(made["person"], "110105********002X");
    assert_eq!(made["event"]["action"], "account_create");
    assert_eq!(made["event"]["actor"], "operator:cli");
    assert_eq!(made["event"]["subject"], made["account"]);
    assert!(
        !out.stdout.contains("11010519491231002X") && !out.stderr.contains("11010519491231002X"),
        "the full ID is never printed: {out:?}"
    );
    let first = shown_password(&out);
    let cookie = sign_in(&client, &url, "zhang-counter", &first)
        .await
        .expect("the new account signs in on the running node");
    let page = wallet_page(&client, &url, &cookie).await;
    let zhang = sign_in(
        &client,
        &url,
        "zhangwei",
        &demo_password(&server.proc.stdout(), "zhangwei"),
    )
    .await
    .unwrap();
    let demo_page = wallet_page(&client, &url, &zhang).await;
    let driving = "机动车驾驶证";
    assert!(demo_page.contains(driving), "the demo holder has one");
    assert!(
        page.contains(driving),
        "the counter's account shows 张伟's licenses"
    );

    // Taken username, bad ID, short password: refused with their codes, nothing made.
    let taken = account_add(&d, "zhang-counter", "张伟", "11010519491231002X");
    taken.expect_code(2);
    assert!(taken.stderr.contains("account.username_taken"), "{taken:?}");
    let bad_id = account_add(&d, "someone", "某人", "110105194912310021");
    bad_id.expect_code(2);
    assert!(bad_id.stderr.contains("error[resident_id."), "{bad_id:?}");
    let short = run_stdin(
        &[
            "account",
            "reset-password",
            "--data",
            d.data(),
            "zhang-counter",
            "--password-stdin",
        ],
        "short\n",
    );
    short.expect_code(2);
    assert!(short.stderr.contains("account.invalid"), "{short:?}");
    assert_eq!(
        wallet(&client, &url, &cookie).await,
        200,
        "a refused reset ends nothing"
    );

    // The reset ends the session and replaces the password.
    let reset = run_stdin(
        &[
            "account",
            "reset-password",
            "--data",
            d.data(),
            "zhang-counter",
            "--password-stdin",
        ],
        "a new password 2026\n",
    );
    reset.ok();
    assert_eq!(reset.json()["event"]["action"], "account_password_reset");
    assert!(!reset.stderr.contains("shown only this once"), "{reset:?}");
    assert_eq!(
        wallet(&client, &url, &cookie).await,
        303,
        "its sessions ended"
    );
    assert!(sign_in(&client, &url, "zhang-counter", &first)
        .await
        .is_none());
    let cookie = sign_in(&client, &url, "zhang-counter", "a new password 2026")
        .await
        .expect("the new password works");
    assert_eq!(wallet(&client, &url, &cookie).await, 200);
    let generated = run(&[
        "account",
        "reset-password",
        "--data",
        d.data(),
        "zhang-counter",
    ]);
    generated.ok();
    let second = shown_password(&generated);
    assert!(sign_in(&client, &url, "zhang-counter", &second)
        .await
        .is_some());
    let nobody = run(&["account", "reset-password", "--data", d.data(), "nobody"]);
    nobody.expect_code(2);
    assert!(nobody.stderr.contains("account.not_found"), "{nobody:?}");

    // The operator's log: made once, reset twice, all by the command line.
    let events = run(&["operator", "events", "--data", d.data()]);
    events.ok();
    let actions: Vec<String> = events
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"] == made["account"])
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap(),
                e["actor"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            "account_create operator:cli",
            "account_password_reset operator:cli",
            "account_password_reset operator:cli"
        ]
    );
    drop(server);
}
