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

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: &std::process::Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Reads the SQLite file the binary wrote, through the store API.
fn with_store<T>(db: &std::path::Path, f: impl AsyncFnOnce(&sx_store::AnyStore) -> T) -> T {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = sx_store::open(db.to_str().unwrap()).await.unwrap();
        let out = f(&store).await;
        store.close().await;
        out
    })
}

#[test]
fn subgroups_are_created_listed_and_staffed() {
    use sx_store::Store as _;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sx.sqlite");
    ok(&admin(
        &db,
        &["create-user", "erin", "--role", "expert"],
        "",
    ));
    ok(&admin(
        &db,
        &["create-user", "mallory", "--role", "maintainer"],
        "",
    ));
    let out = ok(&admin(
        &db,
        &[
            "subgroup",
            "create",
            "rust",
            "--name",
            "Rust experts",
            "--language",
            "rust",
            "--language",
            "build",
            "--vector",
            "install-hook",
        ],
        "",
    ));
    assert!(out.contains("created subgroup rust"), "{out}");
    ok(&admin(
        &db,
        &[
            "subgroup",
            "create",
            "supply-chain",
            "--name",
            "Supply chain",
            "--vector",
            "dependency",
        ],
        "",
    ));

    // Errors say what was wrong and what to do.
    let err = refused(&admin(
        &db,
        &[
            "subgroup",
            "create",
            "rust",
            "--name",
            "Again",
            "--language",
            "go",
        ],
        "",
    ));
    assert!(
        err.contains("already exists") && err.contains("\"rust\""),
        "{err}"
    );
    let err = refused(&admin(
        &db,
        &["subgroup", "create", "cobol", "--name", "COBOL"],
        "",
    ));
    assert!(err.contains("--language or --vector"), "{err}");
    let err = refused(&admin(
        &db,
        &[
            "subgroup",
            "create",
            "old",
            "--name",
            "Old",
            "--language",
            "cobol",
        ],
        "",
    ));
    assert!(
        err.contains("unknown language \"cobol\"") && err.contains("rust"),
        "{err}"
    );
    let err = refused(&admin(
        &db,
        &[
            "subgroup",
            "create",
            "Bad Slug",
            "--name",
            "x",
            "--language",
            "go",
        ],
        "",
    ));
    assert!(err.contains("invalid subgroup slug"), "{err}");
    let err = refused(&admin(&db, &["subgroup", "add-member", "nope", "erin"], ""));
    assert!(
        err.contains("no subgroup with the slug \"nope\"") && err.contains("subgroup list"),
        "{err}"
    );
    let err = refused(&admin(
        &db,
        &["subgroup", "add-member", "rust", "nobody"],
        "",
    ));
    assert!(
        err.contains("no user with the handle \"nobody\"") && err.contains("user list"),
        "{err}"
    );
    let err = refused(&admin(
        &db,
        &["subgroup", "add-member", "rust", "mallory"],
        "",
    ));
    assert!(err.contains("neither an expert nor a coordinator"), "{err}");

    ok(&admin(&db, &["subgroup", "add-member", "rust", "erin"], ""));
    let err = refused(&admin(&db, &["subgroup", "add-member", "rust", "ERIN"], ""));
    assert!(err.contains("already a member"), "{err}");
    let list = ok(&admin(&db, &["subgroup", "list"], ""));
    let rust = list.lines().find(|l| l.starts_with("rust\t")).expect(&list);
    assert!(
        rust.contains("languages=rust,build")
            && rust.contains("vectors=install-hook")
            && rust.contains("members=erin"),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("supply-chain\t") && l.contains("members=-")),
        "{list}"
    );
    let users = ok(&admin(&db, &["user", "list"], ""));
    assert!(
        users
            .lines()
            .any(|l| l.starts_with("erin\texpert\tenabled\tsubgroups=rust")),
        "{users}"
    );

    // What the binary stored is what routing and the queue read.
    let (languages, members) = with_store(&db, async |store| {
        let g = store
            .get_subgroup_by_slug("rust")
            .await
            .unwrap()
            .unwrap()
            .value;
        let erin = store
            .get_user_by_handle("erin")
            .await
            .unwrap()
            .unwrap()
            .user
            .id;
        let of_erin = store.subgroups_of_user(erin).await.unwrap();
        assert_eq!(of_erin.len(), 1);
        (g.routing.languages.len(), g.members == vec![erin])
    });
    assert_eq!(languages, 2);
    assert!(members);

    ok(&admin(
        &db,
        &["subgroup", "remove-member", "rust", "erin"],
        "",
    ));
    let list = ok(&admin(&db, &["subgroup", "list"], ""));
    assert!(
        list.lines()
            .any(|l| l.starts_with("rust\t") && l.contains("members=-")),
        "{list}"
    );
    let err = refused(&admin(
        &db,
        &["subgroup", "remove-member", "rust", "erin"],
        "",
    ));
    assert!(err.contains("not a member"), "{err}");
}

#[test]
fn an_invitation_url_is_printed_once_and_stored_hashed() {
    use sx_store::Store as _;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sx.sqlite");
    ok(&admin(
        &db,
        &[
            "subgroup",
            "create",
            "ci",
            "--name",
            "CI",
            "--language",
            "ci",
            "--vector",
            "ci",
        ],
        "",
    ));
    let err = refused(&admin(&db, &["invite", "--subgroup", "nope"], ""));
    assert!(err.contains("no subgroup with the slug \"nope\""), "{err}");
    let err = refused(&admin(&db, &["invite", "--role", "wizard"], ""));
    assert!(err.contains("unknown role"), "{err}");

    let out = ok(&admin(
        &db,
        &[
            "invite",
            "--role",
            "expert",
            "--subgroup",
            "ci",
            "--expires-days",
            "3",
            "--base-url",
            "https://sx.example.org/",
        ],
        "",
    ));
    let url = out
        .lines()
        .find(|l| l.starts_with("https://"))
        .unwrap_or_else(|| panic!("no URL in {out}"));
    let token = url
        .strip_prefix("https://sx.example.org/invite/")
        .unwrap_or_else(|| panic!("unexpected URL {url}"));
    assert!(token.starts_with("sxi_") && token.len() > 40, "{token}");
    assert_eq!(out.matches(token).count(), 1, "printed once: {out}");

    let (roles, in_ci, days) = with_store(&db, async |store| {
        let inv = store
            .get_invitation(sx_store::SecretHash::of(token))
            .await
            .unwrap()
            .expect("stored under the token's hash");
        let ci = store
            .get_subgroup_by_slug("ci")
            .await
            .unwrap()
            .unwrap()
            .value
            .id;
        (
            inv.roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(","),
            inv.subgroup_id == Some(ci),
            (inv.expires_at - inv.created_at).whole_days(),
        )
    });
    assert_eq!(roles, "expert");
    assert!(in_ci);
    assert_eq!(days, 3);
    let db_bytes = std::fs::read(&db).unwrap();
    assert!(
        !db_bytes.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token itself is not stored"
    );
}

#[test]
fn users_are_disabled_enabled_and_change_roles() {
    use sx_store::Store as _;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sx.sqlite");
    ok(&admin(&db, &["create-user", "root", "--admin"], ""));
    ok(&admin(
        &db,
        &["create-user", "bob", "--role", "maintainer"],
        "",
    ));

    let err = refused(&admin(&db, &["user", "disable", "ghost"], ""));
    assert!(err.contains("no user with the handle \"ghost\""), "{err}");
    let err = refused(&admin(&db, &["user", "disable", "root"], ""));
    assert!(err.contains("last enabled admin"), "{err}");
    let err = refused(&admin(&db, &["user", "revoke", "root", "admin"], ""));
    assert!(err.contains("without a role"), "{err}");
    let err = refused(&admin(&db, &["user", "grant", "bob", "wizard"], ""));
    assert!(err.contains("unknown role"), "{err}");

    ok(&admin(&db, &["user", "disable", "bob"], ""));
    let list = ok(&admin(&db, &["user", "list"], ""));
    assert!(
        list.lines()
            .any(|l| l.starts_with("bob\tmaintainer\tdisabled")),
        "{list}"
    );
    assert!(with_store(&db, async |s| s
        .get_user_by_handle("bob")
        .await
        .unwrap()
        .unwrap()
        .disabled));
    ok(&admin(&db, &["user", "enable", "bob"], ""));

    let out = ok(&admin(&db, &["user", "grant", "bob", "expert"], ""));
    assert!(out.contains("granted the expert role to bob"), "{out}");
    ok(&admin(&db, &["user", "grant", "bob", "admin"], ""));
    let list = ok(&admin(&db, &["user", "list"], ""));
    assert!(
        list.lines().any(|l| l.starts_with("bob\t")
            && l.contains("expert")
            && l.contains("admin")
            && l.contains("\tenabled")),
        "{list}"
    );
    let has_profile = with_store(&db, async |s| {
        s.get_user_by_handle("bob")
            .await
            .unwrap()
            .unwrap()
            .user
            .expert
            .is_some()
    });
    assert!(has_profile, "granting expert creates an expert profile");
    // Another admin exists now, so root may step down.
    ok(&admin(&db, &["user", "disable", "root"], ""));
    ok(&admin(&db, &["user", "revoke", "bob", "maintainer"], ""));
    let err = refused(&admin(&db, &["user", "revoke", "bob", "admin"], ""));
    assert!(err.contains("last enabled admin"), "{err}");
}

#[test]
fn every_operator_action_is_in_the_audit_trail_once_and_printed_newest_first() {
    use sx_domain::{AuditAction, AuditActor};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sx.sqlite");
    let out = ok(&admin(&db, &["audit"], ""));
    assert_eq!(out.trim(), "no audit records yet");
    let steps: [(&[&str], AuditAction); 9] = [
        (
            &["create-user", "root", "--admin", "--token", "cli"],
            AuditAction::TokenIssued,
        ),
        (
            &["create-user", "erin", "--role", "expert"],
            AuditAction::UserCreated,
        ),
        (
            &[
                "subgroup",
                "create",
                "rust",
                "--name",
                "Rust",
                "--language",
                "rust",
            ],
            AuditAction::SubgroupCreated,
        ),
        (
            &["subgroup", "add-member", "rust", "erin"],
            AuditAction::MemberAdded,
        ),
        (
            &["subgroup", "remove-member", "rust", "erin"],
            AuditAction::MemberRemoved,
        ),
        (
            &["user", "grant", "erin", "coordinator"],
            AuditAction::RoleGranted,
        ),
        (
            &["user", "revoke", "erin", "coordinator"],
            AuditAction::RoleRevoked,
        ),
        (&["user", "disable", "erin"], AuditAction::UserDisabled),
        (
            &["invite", "--role", "expert", "--email", "new@example.org"],
            AuditAction::InvitationCreated,
        ),
    ];
    let mut expected = 0;
    for (args, action) in steps {
        ok(&admin(&db, args, ""));
        // create-user --token records the account and then the token.
        expected += if args.contains(&"--token") { 2 } else { 1 };
        let trail = with_store(&db, async |s| {
            sx_store::Store::list_audit(s, &sx_store::AuditFilter::newest(100))
                .await
                .unwrap()
        });
        assert_eq!(trail.len(), expected, "{args:?}: {trail:#?}");
        assert_eq!(trail[0].event.action, action, "{args:?}");
        assert_eq!(trail[0].event.actor, AuditActor::Operator, "{args:?}");
    }
    // Refusals and no-ops record nothing.
    refused(&admin(&db, &["user", "revoke", "erin", "expert"], ""));
    refused(&admin(
        &db,
        &["subgroup", "add-member", "rust", "ghost"],
        "",
    ));
    let out = ok(&admin(&db, &["user", "grant", "erin", "expert"], ""));
    assert!(out.contains("already has the expert role"), "{out}");

    let out = admin(&db, &["audit", "--limit", "3"], "");
    let printed = ok(&out);
    let lines: Vec<Vec<&str>> = printed.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 3, "{printed}");
    let seqs: Vec<u64> = lines.iter().map(|l| l[0].parse().unwrap()).collect();
    assert!(seqs[0] > seqs[1] && seqs[1] > seqs[2], "{printed}");
    assert_eq!(lines[0][2], "cli/operator");
    assert_eq!(lines[0][3], "invitation-created");
    assert_eq!(lines[0][4], "invitation");
    assert!(lines[0][5].contains("email=new@example.org"), "{printed}");
    assert_eq!(
        (lines[1][3], lines[1][4], lines[1][5]),
        ("user-disabled", "user:erin", "handle=erin")
    );
    assert!(
        time::OffsetDateTime::parse(lines[0][1], &time::format_description::well_known::Rfc3339)
            .is_ok(),
        "{printed}"
    );
    let hint = String::from_utf8_lossy(&out.stderr);
    assert!(hint.contains(&format!("--before {}", seqs[2])), "{hint}");
    let rest = ok(&admin(
        &db,
        &["audit", "--limit", "50", "--before", &seqs[2].to_string()],
        "",
    ));
    assert_eq!(rest.lines().count(), expected - 3, "{rest}");
    assert!(
        rest.lines().last().unwrap().contains("user-created"),
        "{rest}"
    );
    let err = refused(&admin(&db, &["audit", "--limit", "0"], ""));
    assert!(err.contains("--limit must be between 1 and 500"), "{err}");
}

#[test]
fn only_the_fallback_subgroup_may_take_no_cases_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sx.sqlite");
    let err = refused(&admin(
        &db,
        &["subgroup", "create", "misc", "--name", "Misc"],
        "",
    ));
    assert!(
        err.contains("\"misc\" would take no cases")
            && err.contains("fallback subgroup \"general\"")
            && err.contains("help: pass at least one --language or --vector"),
        "{err}"
    );
    let out = ok(&admin(
        &db,
        &["subgroup", "create", "general", "--name", "General"],
        "",
    ));
    assert!(out.contains("created subgroup general"), "{out}");
    let list = ok(&admin(&db, &["subgroup", "list"], ""));
    assert!(
        list.lines()
            .any(|l| l == "general\tGeneral\tlanguages=-\tvectors=-\tmembers=-\tcoordinators=-"),
        "{list}"
    );
    assert!(!list.contains("misc"), "{list}");
    let help = ok(&admin(&db, &["subgroup", "create", "--help"], ""));
    assert!(
        help.contains("except the fallback subgroup `general`"),
        "{help}"
    );
}

#[test]
fn coordinators_are_named_at_creation_added_and_removed_with_an_audit_record() {
    use sx_domain::{AuditAction, AuditTarget};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sx.sqlite");
    for (handle, role) in [
        ("cora", "coordinator"),
        ("colin", "coordinator"),
        ("erin", "expert"),
    ] {
        ok(&admin(&db, &["create-user", handle, "--role", role], ""));
    }

    // At creation: every handle must exist and hold the coordinator role; a refusal creates
    // nothing.
    let err = refused(&admin(
        &db,
        &[
            "subgroup",
            "create",
            "general",
            "--name",
            "General",
            "--coordinator",
            "ghost",
        ],
        "",
    ));
    assert!(
        err.contains("no user with the handle \"ghost\"") && err.contains("user list"),
        "{err}"
    );
    let err = refused(&admin(
        &db,
        &[
            "subgroup",
            "create",
            "general",
            "--name",
            "General",
            "--coordinator",
            "erin",
        ],
        "",
    ));
    assert!(
        err.contains("\"erin\" does not hold the coordinator role")
            && err.contains("help: `s-express admin user grant erin coordinator` first"),
        "{err}"
    );
    let list = ok(&admin(&db, &["subgroup", "list"], ""));
    assert!(list.contains("no subgroups yet"), "{list}");
    ok(&admin(
        &db,
        &[
            "subgroup",
            "create",
            "general",
            "--name",
            "General",
            "--coordinator",
            "cora",
            "--coordinator",
            "CORA",
        ],
        "",
    ));
    let list = ok(&admin(&db, &["subgroup", "list"], ""));
    assert!(list.contains("\tcoordinators=cora"), "{list}");

    // Added and removed on an existing subgroup, with the same checks.
    let err = refused(&admin(
        &db,
        &["subgroup", "add-coordinator", "general", "nobody"],
        "",
    ));
    assert!(err.contains("no user with the handle \"nobody\""), "{err}");
    let err = refused(&admin(
        &db,
        &["subgroup", "add-coordinator", "general", "erin"],
        "",
    ));
    assert!(err.contains("does not hold the coordinator role"), "{err}");
    let err = refused(&admin(
        &db,
        &["subgroup", "add-coordinator", "nope", "colin"],
        "",
    ));
    assert!(err.contains("no subgroup with the slug \"nope\""), "{err}");
    let err = refused(&admin(
        &db,
        &["subgroup", "add-coordinator", "general", "cora"],
        "",
    ));
    assert!(
        err.contains("\"cora\" already coordinates subgroup \"general\""),
        "{err}"
    );
    let out = ok(&admin(
        &db,
        &["subgroup", "add-coordinator", "general", "colin"],
        "",
    ));
    assert!(
        out.contains("colin now coordinates subgroup general"),
        "{out}"
    );
    ok(&admin(
        &db,
        &["subgroup", "add-member", "general", "erin"],
        "",
    ));
    let list = ok(&admin(&db, &["subgroup", "list"], ""));
    assert!(
        list.contains("\tmembers=erin\tcoordinators=cora,colin"),
        "{list}"
    );
    let users = ok(&admin(&db, &["user", "list"], ""));
    assert!(
        users
            .lines()
            .any(|l| l.starts_with("colin\t") && l.ends_with("subgroups=general")),
        "{users}"
    );
    let out = ok(&admin(
        &db,
        &["subgroup", "remove-coordinator", "general", "cora"],
        "",
    ));
    assert!(
        out.contains("cora no longer coordinates subgroup general"),
        "{out}"
    );
    let err = refused(&admin(
        &db,
        &["subgroup", "remove-coordinator", "general", "cora"],
        "",
    ));
    assert!(
        err.contains("\"cora\" does not coordinate subgroup \"general\"")
            && err.contains("subgroup list"),
        "{err}"
    );
    // A member is not a coordinator.
    refused(&admin(
        &db,
        &["subgroup", "remove-coordinator", "general", "erin"],
        "",
    ));

    // What the binary stored, and what the audit trail says (refusals record nothing).
    let (coordinators, cora, colin, trail) = with_store(&db, async |s| {
        use sx_store::Store as _;
        let group = s
            .get_subgroup_by_slug("general")
            .await
            .unwrap()
            .unwrap()
            .value;
        let id = async |h: &str| s.get_user_by_handle(h).await.unwrap().unwrap().user.id;
        let (cora, colin) = (id("cora").await, id("colin").await);
        let trail = s
            .list_audit(&sx_store::AuditFilter::newest(100))
            .await
            .unwrap();
        (group.coordinators, cora, colin, trail)
    });
    assert_eq!(coordinators, vec![colin]);
    let subgroup_events: Vec<_> = trail
        .iter()
        .rev()
        .map(|r| &r.event)
        .filter(|e| e.action != AuditAction::UserCreated)
        .collect();
    let summary: Vec<(AuditAction, Option<&str>, Option<&str>)> = subgroup_events
        .iter()
        .map(|e| {
            (
                e.action,
                e.details.get("handle").map(String::as_str),
                e.details.get("coordinators").map(String::as_str),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (AuditAction::SubgroupCreated, None, Some("cora")),
            (AuditAction::CoordinatorAdded, Some("colin"), None),
            (AuditAction::MemberAdded, Some("erin"), None),
            (AuditAction::CoordinatorRemoved, Some("cora"), None),
        ]
    );
    assert_eq!(subgroup_events[1].target, AuditTarget::User(colin));
    assert_eq!(subgroup_events[3].target, AuditTarget::User(cora));
    assert_eq!(
        subgroup_events[3]
            .details
            .get("subgroup")
            .map(String::as_str),
        Some("general")
    );
    let printed = ok(&admin(&db, &["audit", "--limit", "2"], ""));
    assert!(
        printed
            .lines()
            .next()
            .is_some_and(|l| l.contains("\tsubgroup-coordinator-removed\tuser:cora\t")),
        "{printed}"
    );
}
