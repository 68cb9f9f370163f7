//! The data dir is its owner's only (issue 16, finding 9 d): created 0700 with every file in
//! it 0600 whatever the umask (the SQLite database and its WAL and shared-memory files too), a
//! loose one tightened at start with a warning; the key password may come from outside it, and
//! then the data dir holds no password.

mod common;

#[cfg(unix)]
mod unix {
    use std::collections::BTreeSet;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::process::Command;

    use serde_json::{json, Value};

    use super::common::*;

    /// `elicense ARGS...` with the test environment, under umask 022 (what most systems give a
    /// service): files made with default modes would be readable by everyone.
    fn lax(args: &[&str]) -> Command {
        let base = command(args);
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg("umask 022; exec \"$0\" \"$@\"")
            .arg(bin())
            .args(args);
        for (k, v) in base.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c
    }

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o7777
    }

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// Asserts the dir is 0700 and nothing in it (recursively) is open to group or others;
    /// returns the names of the top-level entries.
    #[track_caller]
    fn assert_private(dir: &Path) -> BTreeSet<String> {
        assert_eq!(mode(dir), 0o700, "{}", dir.display());
        let mut names = BTreeSet::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                let m = mode(&path);
                assert_eq!(m & 0o077, 0, "{} has mode {m:o}", path.display());
                if d == dir {
                    names.insert(path.file_name().unwrap().to_string_lossy().into_owned());
                }
                if path.is_dir() {
                    stack.push(path);
                }
            }
        }
        names
    }

    #[test]
    fn demo_makes_a_private_data_dir_whatever_the_umask() {
        let d = DataDir::empty();
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let server = Server::start(
            lax(&["demo", "--data", d.data(), "--listen", &listen]),
            d.tmp.path(),
            "demo",
            port,
        );
        let names = assert_private(&d.dir);
        for must in [
            "elicense.toml",
            "holder-secret",
            "elicense.db",
            "elicense.db-wal",
            "elicense.db-shm",
        ] {
            assert!(names.contains(must), "{must} in {names:?}");
        }
        assert!(
            !names.contains("key-password"),
            "the key password came from ELICENSE_KEY_PASSWORD: {names:?}"
        );
        assert!(
            !server.proc.stderr().contains("tightened"),
            "nothing to tighten in a fresh dir:\n{}",
            server.proc.stderr()
        );
        drop(server);
    }

    #[test]
    fn a_loose_data_dir_is_tightened_at_start_with_a_warning() {
        let d = DataDir::empty();
        // A data dir made by an earlier version: everything readable by everyone.
        let catalogue = sample_catalogue();
        let mut cmd = lax(&d.args(&["catalogue", "--load", catalogue.to_str().unwrap()]));
        cmd.env_remove("ELICENSE_KEY_PASSWORD");
        run_command(cmd, None).ok();
        let loose = ["key-password", "holder-secret", "elicense.db"];
        for name in loose {
            chmod(&d.dir.join(name), 0o644);
        }
        std::fs::write(d.dir.join("elicense.toml"), "default_alg = \"sm2\"\n").unwrap();
        chmod(&d.dir.join("elicense.toml"), 0o644);
        chmod(&d.dir, 0o755);

        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut cmd = lax(&["serve", "--data", d.data(), "--listen", &listen]);
        cmd.env_remove("ELICENSE_KEY_PASSWORD");
        let server = Server::start(cmd, d.tmp.path(), "serve", port);
        assert_private(&d.dir);
        let stderr = server.proc.stderr();
        for name in loose.iter().chain(&["elicense.toml"]) {
            assert!(
                stderr
                    .lines()
                    .any(|l| l.contains("tightened") && l.contains(name)),
                "a warning names {name}:\n{stderr}"
            );
        }
        drop(server);
    }

    #[test]
    fn a_shared_directory_is_not_taken_over() {
        let d = DataDir::empty();
        std::fs::create_dir(&d.dir).unwrap();
        chmod(&d.dir, 0o1777);
        let out = d.run(&["catalogue", "--json"]);
        out.expect_code(2);
        assert_eq!(
            out.stderr_json()["error"]["code"],
            "config.data_dir",
            "{out:?}"
        );
        assert_eq!(mode(&d.dir), 0o1777, "left as it was");
    }

    /// `elicense ARGS...` without `ELICENSE_KEY_PASSWORD`.
    fn no_password_env(args: &[&str]) -> Command {
        let mut c = command(args);
        c.env_remove("ELICENSE_KEY_PASSWORD");
        c
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_key_password_can_live_outside_the_data_dir() {
        const PASSWORD: &str = "kept-in-a-secrets-mount-7f3a";
        let d = DataDir::empty();
        let secrets = d.path("secrets");
        std::fs::create_dir(&secrets).unwrap();
        let pw_file = secrets.join("key-password");
        std::fs::write(&pw_file, format!("{PASSWORD}\n")).unwrap();
        chmod(&pw_file, 0o600);
        let pw = pw_file.to_str().unwrap();

        // --key-password-file on the command line.
        let with_file = |args: &[&str]| {
            let mut all = d.args(args);
            all.extend(["--key-password-file", pw]);
            run_command(no_password_env(&all), None)
        };
        let catalogue = sample_catalogue();
        with_file(&["catalogue", "--load", catalogue.to_str().unwrap()]).ok();
        with_file(&[
            "keygen",
            "--issuer",
            BEIJING_TRAFFIC_POLICE,
            "--alg",
            "ed25519",
        ])
        .ok();
        let id = "11010519491231002X";
        let fields: Vec<String> = driving_fields(id)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut issue = vec![
            "issue",
            "--type",
            DRIVING_LICENSE,
            "--issuer",
            BEIJING_TRAFFIC_POLICE,
            "--holder-name",
            "张伟",
            "--holder-id",
            id,
            "--alg",
            "ed25519",
            "--json",
        ];
        for f in &fields {
            issue.extend(["--field", f.as_str()]);
        }
        let out = with_file(&issue);
        out.ok();
        let cred = out.json()["credential"].as_str().unwrap().to_owned();

        // The data dir holds no password, in no file.
        let names = assert_private(&d.dir);
        assert!(!names.contains("key-password"), "{names:?}");
        for name in &names {
            let bytes = std::fs::read(d.dir.join(name)).unwrap_or_default();
            assert!(
                !bytes
                    .windows(PASSWORD.len())
                    .any(|w| w == PASSWORD.as_bytes()),
                "{name} holds the password"
            );
        }

        // A wrong password does not open the keys; a password given twice is refused.
        let wrong = secrets.join("wrong");
        std::fs::write(&wrong, "not-the-password").unwrap();
        let mut args = d.args(&issue);
        args.extend(["--key-password-file", wrong.to_str().unwrap()]);
        let out = run_command(no_password_env(&args), None);
        out.expect_code(2);
        let mut both = command(&d.args(&["catalogue", "--json", "--key-password-file", pw]));
        both.env("ELICENSE_KEY_PASSWORD", PASSWORD);
        let out = run_command(both, None);
        out.expect_code(2);
        assert_eq!(
            out.stderr_json()["error"]["code"],
            "config.key_password_ambiguous"
        );
        let missing = secrets.join("missing");
        let mut args = d.args(&["catalogue", "--json"]);
        args.extend(["--key-password-file", missing.to_str().unwrap()]);
        let out = run_command(no_password_env(&args), None);
        out.expect_code(2);
        assert_eq!(
            out.stderr_json()["error"]["code"],
            "config.key_password_file"
        );

        // A node started with ELICENSE_KEY_PASSWORD_FILE signs with the keys.
        let mut apikey = no_password_env(&d.args(&["apikey", "--issuer", BEIJING_TRAFFIC_POLICE]));
        apikey.env("ELICENSE_KEY_PASSWORD_FILE", pw);
        let out = run_command(apikey, None);
        out.ok();
        let key = out.stdout.trim().to_owned();
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut serve = no_password_env(&["serve", "--data", d.data(), "--listen", &listen]);
        serve.env("ELICENSE_KEY_PASSWORD_FILE", pw);
        let server = Server::start(serve, d.tmp.path(), "serve", port);
        let client = reqwest::Client::new();
        let resp = client
            .post(format!("{}/api/v1/licenses", server.url))
            .bearer_auth(&key)
            .json(&json!({
                "type_code": DRIVING_LICENSE,
                "issuer": BEIJING_TRAFFIC_POLICE,
                "holder_name": "李娜",
                "holder_id": "110105200002290021",
                "fields": driving_fields_json("110105200002290021"),
                "alg": "ed25519",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201);
        let issued: Value = resp.json().await.unwrap();
        assert!(issued["credential"].is_string(), "{issued}");
        let resp = client
            .post(format!("{}/api/v1/verifications", server.url))
            .header("content-type", "text/plain")
            .body(cred)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.json::<Value>().await.unwrap()["valid"], true);
        drop(server);
        assert!(!d.dir.join("key-password").exists());
    }
}
