//! `s-express admin` on a real SQLite file: migrations, creating the first admin with a token.

fn admin(db: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    let db = db.to_str().expect("utf-8 temp path");
    let mut all = vec!["admin", "--database", db];
    all.extend_from_slice(args);
    crate::sx(&all, Some(stdin.as_bytes()))
}

#[test]
fn the_first_admin_is_created_with_a_token_shown_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sx.sqlite");
    let out = admin(&db, &["migrate"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = admin(
        &db,
        &[
            "create-user",
            "alice",
            "--admin",
            "--password-stdin",
            "--token",
            "cli",
        ],
        "a-long-enough-password-42\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("created user alice"), "{stdout}");
    assert!(
        stdout.contains("sxp_"),
        "the token is printed once: {stdout}"
    );
    // The handle is taken now.
    let again = admin(&db, &["create-user", "alice", "--admin"], "");
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn an_unknown_role_is_refused_with_the_list_of_roles() {
    let dir = tempfile::tempdir().unwrap();
    let out = admin(
        &dir.path().join("sx.sqlite"),
        &["create-user", "bob", "--role", "wizard"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown role") && err.contains("coordinator"),
        "{err}"
    );
}
