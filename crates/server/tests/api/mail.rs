//! The mail intake in process: `/api/v1/me/mail-intake`, the E-mail intake section of
//! `/settings`, and [`sx_server::mail::deliver`] on a store (with its hourly limit), with the
//! forwarded-mail fixtures of sx-forge (`crates/forge/tests/fixtures/mail/`).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sx_server::ConfigLayer;
use sx_server::mail::config::MailLayer;
use sx_server::mail::{Delivered, DeliveryError, Envelope, NOT_AUTHORIZED, deliver};
use sx_store::Store;

use crate::pages::Browser;
use crate::util::{TestApp, TestUser};

crate::both_backends!(
    an_intake_address_is_shown_once_and_replaced_by_a_new_one,
    without_an_intake_domain_no_address_is_made,
    a_forwarded_series_from_the_registered_sender_becomes_one_case,
    forged_senders_and_unknown_addresses_are_refused_alike_and_create_nothing,
    a_sender_over_the_hourly_limit_is_deferred_with_the_time_to_retry_and_nothing_is_lost,
    the_settings_page_makes_shows_once_and_removes_the_intake_address,
    the_settings_page_says_when_there_is_no_intake_and_hides_it_from_non_maintainers,
);

const SENDER: &str = "lasse@maint.example.invalid";
const FIXTURE_ADDRESS: &str = "submit+aaaabbbbccccddddeeeeffffgggghhhh@intake.example.invalid";

async fn app() -> TestApp {
    app_with_limit(None).await
}

async fn app_with_limit(max_cases_per_hour: Option<u32>) -> TestApp {
    TestApp::with(ConfigLayer {
        mail: Some(MailLayer {
            intake_domain: Some("intake.example.invalid".into()),
            max_cases_per_hour,
            ..MailLayer::default()
        }),
        ..ConfigLayer::default()
    })
    .await
}

fn fixture(name: &str, address: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../forge/tests/fixtures/mail")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap()
        .replace(FIXTURE_ADDRESS, address)
        .into_bytes()
}

async fn set_email(app: &TestApp, user: &TestUser, email: &str) {
    let r = app
        .call(
            Method::PUT,
            "/api/v1/me/notifications",
            Some(&user.token),
            Some(json!({ "email": email })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}

async fn new_address(app: &TestApp, user: &TestUser) -> Value {
    let r = user.post(app, "/api/v1/me/mail-intake", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    r.json
}

async fn an_intake_address_is_shown_once_and_replaced_by_a_new_one() {
    let app = app().await;
    let lasse = app.maintainer("lasse").await;
    let before = lasse.get(&app, "/api/v1/me/mail-intake").await.json;
    assert_eq!(before["available"], true);
    assert_eq!(before["address_set"], false);
    assert_eq!(
        before["address_form"],
        "submit+TOKEN@intake.example.invalid"
    );
    assert_eq!(before["ready"], false);

    let made = new_address(&app, &lasse).await;
    let first = made["address"].as_str().unwrap().to_string();
    assert!(first.starts_with("submit+") && first.ends_with("@intake.example.invalid"));
    assert_eq!(
        made["ready"], false,
        "no sender is accepted before an e-mail is set"
    );
    set_email(&app, &lasse, SENDER).await;
    let shown = lasse.get(&app, "/api/v1/me/mail-intake").await.json;
    assert_eq!(shown["address_set"], true);
    assert_eq!(shown["sender"], SENDER);
    assert_eq!(shown["ready"], true);
    assert!(!shown.to_string().contains(&first), "shown once: {shown}");

    let second = new_address(&app, &lasse).await["address"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(first, second);
    let raw = fixture("inline-thunderbird.eml", &first);
    let refused = deliver(&app.state, &raw, &Envelope::default()).await;
    assert!(
        matches!(&refused, Err(DeliveryError::Refused { message, .. }) if message == NOT_AUTHORIZED),
        "the replaced address no longer works: {refused:?}"
    );

    let expert = app.expert("eve").await;
    let r = expert.post(&app, "/api/v1/me/mail-intake", json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .call(
            Method::DELETE,
            "/api/v1/me/mail-intake",
            Some(&lasse.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .call(
            Method::DELETE,
            "/api/v1/me/mail-intake",
            Some(&lasse.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn without_an_intake_domain_no_address_is_made() {
    let app = TestApp::new().await;
    let lasse = app.maintainer("lasse").await;
    let shown = lasse.get(&app, "/api/v1/me/mail-intake").await.json;
    assert_eq!(shown["available"], false);
    assert_eq!(shown["address_form"], Value::Null);
    let r = lasse.post(&app, "/api/v1/me/mail-intake", json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "invalid_state");
    let raw = fixture("inline-thunderbird.eml", FIXTURE_ADDRESS);
    assert!(matches!(
        deliver(&app.state, &raw, &Envelope::default()).await,
        Err(DeliveryError::Unavailable(_))
    ));
}

async fn a_forwarded_series_from_the_registered_sender_becomes_one_case() {
    let app = app().await;
    let lasse = app.maintainer("lasse").await;
    set_email(&app, &lasse, "Lasse@Maint.Example.Invalid").await;
    let address = new_address(&app, &lasse).await["address"]
        .as_str()
        .unwrap()
        .to_string();
    let raw = fixture("attached-rfc822-series.eml", &address);
    let envelope = Envelope {
        recipient: Some(address.to_ascii_uppercase()),
    };
    let delivered = deliver(&app.state, &raw, &envelope).await.unwrap();
    let Delivered::Created {
        case_id,
        project,
        patches,
        files,
        ..
    } = delivered
    else {
        panic!("{delivered:?}");
    };
    assert_eq!(project, "lists.example.invalid/xz-devel");
    assert_eq!((patches, files), (2, 2));
    app.run_jobs().await;
    let case = lasse
        .get(&app, &format!("/api/v1/cases/{case_id}"))
        .await
        .json;
    assert!(
        case["concern"]["text"]
            .as_str()
            .unwrap()
            .starts_with("A new contributor wants"),
        "{case}"
    );
    assert_eq!(case["concern"]["suspicion"], 5);
    assert!(!case["report"].is_null(), "the analysis job ran: {case}");
    assert_eq!(case["submitted_by"], lasse.user.id.to_string());

    let again = deliver(&app.state, &raw, &envelope).await.unwrap();
    assert!(
        matches!(again, Delivered::AlreadyReceived { case_id: c, .. } if c == case_id),
        "{again:?}"
    );
    let intake = app
        .state
        .store
        .get_mail_intake(lasse.user.id)
        .await
        .unwrap()
        .unwrap();
    assert!(intake.last_used_at.is_some());

    // Patch files carrying their list's List-Id: the list is the project.
    let text = String::from_utf8(fixture("patch-files-attached.eml", &address))
        .unwrap()
        .replace("Project: github:tukaani-project/xz", "")
        .replace("fwd-4@", "fwd-4b@");
    match deliver(&app.state, text.as_bytes(), &Envelope::default()).await {
        Ok(Delivered::Created { project, .. }) => {
            assert_eq!(project, "lists.example.invalid/xz-devel");
        }
        other => panic!("{other:?}"),
    }
    // No project line and no list: refused, saying how to name the project.
    let text = String::from_utf8(fixture("inline-thunderbird.eml", &address))
        .unwrap()
        .replace("Project: github:tukaani-project/xz", "");
    assert!(matches!(
        deliver(&app.state, text.as_bytes(), &Envelope::default()).await,
        Err(DeliveryError::Refused { message, .. }) if message.contains("Project: FORGE:OWNER/NAME")
    ));
}

async fn forged_senders_and_unknown_addresses_are_refused_alike_and_create_nothing() {
    let app = app().await;
    let lasse = app.maintainer("lasse").await;
    let address = new_address(&app, &lasse).await["address"]
        .as_str()
        .unwrap()
        .to_string();
    let raw = fixture("inline-thunderbird.eml", &address);

    // No notification address yet: no sender is accepted.
    let refused = deliver(&app.state, &raw, &Envelope::default()).await;
    let Err(DeliveryError::Refused { message, detail }) = refused else {
        panic!("{refused:?}");
    };
    assert_eq!(message, NOT_AUTHORIZED);
    assert!(
        detail.unwrap().contains("has no notification address"),
        "the operator's reason is precise"
    );

    set_email(&app, &lasse, "someone.else@maint.example.invalid").await;
    let forged = deliver(&app.state, &raw, &Envelope::default()).await;
    assert!(
        matches!(&forged, Err(DeliveryError::Refused { message, .. }) if message == NOT_AUTHORIZED),
        "{forged:?}"
    );
    let unknown = fixture(
        "inline-thunderbird.eml",
        "submit+zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz@intake.example.invalid",
    );
    set_email(&app, &lasse, SENDER).await;
    let refused = deliver(&app.state, &unknown, &Envelope::default()).await;
    assert!(
        matches!(&refused, Err(DeliveryError::Refused { message, .. }) if message == NOT_AUTHORIZED),
        "{refused:?}"
    );
    // Mail to another address of the domain, or none, is refused as not for the intake.
    let elsewhere = fixture("inline-thunderbird.eml", "lasse@intake.example.invalid");
    assert!(matches!(
        deliver(&app.state, &elsewhere, &Envelope::default()).await,
        Err(DeliveryError::Refused { message, .. }) if message.contains("not addressed to an intake address")
    ));
    // Junk from the right sender to the right address: refused with its own reason.
    let junk = format!(
        "From: {SENDER}\nTo: {address}\nSubject: hi\nContent-Type: text/html\n\n<p>hello</p>\n"
    );
    assert!(matches!(
        deliver(&app.state, junk.as_bytes(), &Envelope::default()).await,
        Err(DeliveryError::Refused { message, .. }) if message.contains("only an HTML body")
    ));
    let cases = app.state.store.list_projects(None, 100).await.unwrap();
    assert!(
        cases.is_empty(),
        "no project, so no case, was created: {cases:?}"
    );
    // Now from the right sender: accepted.
    assert!(matches!(
        deliver(&app.state, &raw, &Envelope::default()).await,
        Ok(Delivered::Created { .. })
    ));
}

/// The Thunderbird fixture to `address` with its own `Message-ID`.
fn numbered(address: &str, n: &str) -> Vec<u8> {
    String::from_utf8(fixture("inline-thunderbird.eml", address))
        .unwrap()
        .replace("<fwd-1@", &format!("<fwd-limit-{n}@"))
        .into_bytes()
}

async fn a_sender_over_the_hourly_limit_is_deferred_with_the_time_to_retry_and_nothing_is_lost() {
    let app = app_with_limit(Some(2)).await;
    let lasse = app.maintainer("lasse").await;
    set_email(&app, &lasse, SENDER).await;
    let address = new_address(&app, &lasse).await["address"]
        .as_str()
        .unwrap()
        .to_string();
    let created = |d: Result<Delivered, DeliveryError>| match d {
        Ok(Delivered::Created { case_id, .. }) => case_id,
        other => panic!("{other:?}"),
    };
    let first = created(deliver(&app.state, &numbered(&address, "a"), &Envelope::default()).await);
    // Cases opened by mail more than an hour ago do not count.
    let old = time::OffsetDateTime::now_utc() - time::Duration::minutes(61);
    for n in 0..3 {
        let key = sx_store::SecretHash::of(&format!("an old message {n}"));
        assert!(
            app.state
                .store
                .record_mail_delivery(key, lasse.user.id, first, old - time::Duration::minutes(n))
                .await
                .unwrap()
        );
    }
    created(deliver(&app.state, &numbered(&address, "b"), &Envelope::default()).await);

    let third = numbered(&address, "c");
    let deferred = deliver(&app.state, &third, &Envelope::default()).await;
    let Err(DeliveryError::RateLimited { message, retry_at }) = deferred else {
        panic!("the third case within the hour is deferred: {deferred:?}");
    };
    let counted = app
        .state
        .store
        .mail_delivery_times(
            lasse.user.id,
            time::OffsetDateTime::now_utc() - sx_server::mail::RATE_WINDOW,
            10,
        )
        .await
        .unwrap();
    assert_eq!(counted.len(), 2, "{counted:?}");
    assert_eq!(
        retry_at,
        counted[1] + time::Duration::HOUR,
        "accepted again when the older of the two leaves the hour"
    );
    assert!(
        message.starts_with("temporary failure")
            && message.contains("already opened 2 cases by mail in the past hour")
            && message.contains("mail.max_cases_per_hour")
            && message.contains("it can be accepted from 20"),
        "{message}"
    );
    let projects = app.state.store.list_projects(None, 10).await.unwrap();
    let cases = app
        .state
        .store
        .list_project_cases(projects[0].value.id, 10)
        .await
        .unwrap();
    assert_eq!(cases.len(), 2, "the deferred message created nothing");
    // A retry of a message that already became a case is still answered with its case.
    assert!(matches!(
        deliver(&app.state, &numbered(&address, "a"), &Envelope::default()).await,
        Ok(Delivered::AlreadyReceived { case_id, .. }) if case_id == first
    ));
    // The limit is per account: another maintainer's mail is accepted.
    let vic = app.maintainer("vic").await;
    set_email(&app, &vic, "vic@maint.example.invalid").await;
    let vic_address = new_address(&app, &vic).await["address"]
        .as_str()
        .unwrap()
        .to_string();
    let from_vic = String::from_utf8(numbered(&vic_address, "v"))
        .unwrap()
        .replace(SENDER, "vic@maint.example.invalid")
        .replace(
            "Project: github:tukaani-project/xz",
            "Project: github:vic/widget",
        );
    created(deliver(&app.state, from_vic.as_bytes(), &Envelope::default()).await);
    // The deferred message, tried again once the limit allows it (here: a higher limit stands
    // in for the hour passing), becomes a case like any other: nothing was lost.
    let mut later = app.state.clone();
    let mut config = (*later.config).clone();
    config.mail.max_cases_per_hour = 3;
    later.config = std::sync::Arc::new(config);
    created(deliver(&later, &third, &Envelope::default()).await);
}

async fn the_settings_page_makes_shows_once_and_removes_the_intake_address() {
    let app = app().await;
    let lasse = app.maintainer("lasse").await;
    let mut b = Browser::signed_in(&app, &lasse.user).await;
    let page = b.get("/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_html();
    assert_eq!(page.text("#mail-intake h2"), "E-mail intake");
    assert!(
        page.text("#mail-intake-no-sender")
            .contains("you have no notification address"),
        "{}",
        page.text("#mail-intake")
    );
    assert_eq!(
        page.attr("#mail-intake-no-sender a", "href").as_deref(),
        Some("#notifications")
    );
    assert!(page.text("#mail-intake-facts").contains("none yet"));
    assert_eq!(page.count("#mail-intake-remove"), 0);
    let csrf = page.csrf();

    // Without the form's token nothing is made.
    let forged = b.post("/settings/mail-intake", &[("csrf", "forged")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.state
            .store
            .get_mail_intake(lasse.user.id)
            .await
            .unwrap(),
        None
    );

    let made = b.post("/settings/mail-intake", &[("csrf", &csrf)]).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.assert_html();
    let address = made.text("#new-mail-intake code.secret");
    assert!(
        address.starts_with("submit+") && address.ends_with("@intake.example.invalid"),
        "{address}"
    );
    assert!(made.text("#mail-intake-facts").contains("never"));
    assert_eq!(made.count("#mail-intake-remove"), 1);
    // The same function as the API's: the API sees the address, and never shows it again.
    let shown = lasse.get(&app, "/api/v1/me/mail-intake").await.json;
    assert_eq!(shown["address_set"], true);
    let page = b.get("/settings").await;
    assert_eq!(page.count("#new-mail-intake"), 0);
    assert!(!page.body.contains(&address), "shown once");

    // With a notification address the warning goes and mail to the address becomes a case;
    // the page shows when the address was last used.
    set_email(&app, &lasse, SENDER).await;
    let page = b.get("/settings").await;
    assert_eq!(page.count("#mail-intake-no-sender"), 0);
    assert!(page.text("#mail-intake-facts").contains(SENDER));
    let raw = fixture("inline-thunderbird.eml", &address);
    assert!(matches!(
        deliver(&app.state, &raw, &Envelope::default()).await,
        Ok(Delivered::Created { .. })
    ));
    let page = b.get("/settings").await;
    let facts = page.texts("#mail-intake-facts dd");
    assert_eq!(facts.len(), 3, "{facts:?}");
    assert!(facts[1].ends_with("UTC"), "last used: {facts:?}");

    // Removing it: the address no longer works.
    let removed = b
        .post("/settings/mail-intake/remove", &[("csrf", &csrf)])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        removed.location(),
        "/settings?done=mail-intake-removed#mail-intake"
    );
    let page = b.get("/settings?done=mail-intake-removed").await;
    assert!(
        page.text("[role=status]")
            .contains("intake address was removed")
    );
    // A stale tab removing it again lands back on the settings page with a notice instead of
    // the API's 404 page.
    let again = b
        .post("/settings/mail-intake/remove", &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(
        again.location(),
        "/settings?done=mail-intake-gone#mail-intake"
    );
    let stale = b.get("/settings?done=mail-intake-gone").await;
    assert_eq!(stale.status, StatusCode::OK);
    assert!(
        stale.text("[role=status]").contains("already removed"),
        "{}",
        stale.body
    );
    assert_eq!(stale.count("#form-error"), 0);
    assert!(page.text("#mail-intake-facts").contains("none yet"));
    assert_eq!(
        app.state
            .store
            .get_mail_intake(lasse.user.id)
            .await
            .unwrap(),
        None
    );
    let again = String::from_utf8(raw)
        .unwrap()
        .replace("<fwd-1@", "<fwd-1-again@");
    assert!(matches!(
        deliver(&app.state, again.as_bytes(), &Envelope::default()).await,
        Err(DeliveryError::Refused { message, .. }) if message == NOT_AUTHORIZED
    ));
}

async fn the_settings_page_says_when_there_is_no_intake_and_hides_it_from_non_maintainers() {
    let bare = TestApp::new().await;
    let lasse = bare.maintainer("lasse").await;
    let mut b = Browser::signed_in(&bare, &lasse.user).await;
    let page = b.get("/settings").await;
    assert!(
        page.text("#mail-intake").contains("has no e-mail intake"),
        "{}",
        page.text("#mail-intake")
    );
    assert_eq!(page.count("#mail-intake form"), 0);
    // Made anyway (a form kept open from before): the API's refusal, on the page.
    let r = b
        .post("/settings/mail-intake", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text("#form-error").contains("no mail intake"));

    let with_intake = app().await;
    let eve = with_intake.expert("eve").await;
    let mut b = Browser::signed_in(&with_intake, &eve.user).await;
    let page = b.get("/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.count("#mail-intake"), 0, "experts forward no changes");
    let r = b
        .post("/settings/mail-intake", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
