//! The mail intake in process: `/api/v1/me/mail-intake` and [`sx_server::mail::deliver`] on a
//! store, with the forwarded-mail fixtures of sx-forge (`crates/forge/tests/fixtures/mail/`).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sx_server::ConfigLayer;
use sx_server::mail::config::MailLayer;
use sx_server::mail::{Delivered, DeliveryError, Envelope, NOT_AUTHORIZED, deliver};
use sx_store::Store;

use crate::util::{TestApp, TestUser};

crate::both_backends!(
    an_intake_address_is_shown_once_and_replaced_by_a_new_one,
    without_an_intake_domain_no_address_is_made,
    a_forwarded_series_from_the_registered_sender_becomes_one_case,
    forged_senders_and_unknown_addresses_are_refused_alike_and_create_nothing,
);

const SENDER: &str = "lasse@maint.example.invalid";
const FIXTURE_ADDRESS: &str = "submit+aaaabbbbccccddddeeeeffffgggghhhh@intake.example.invalid";

async fn app() -> TestApp {
    TestApp::with(ConfigLayer {
        mail: Some(MailLayer {
            intake_domain: Some("intake.example.invalid".into()),
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
