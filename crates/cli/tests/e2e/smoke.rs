//! The harness itself: an instance starts on each backend, answers, and stops cleanly.

use crate::http::Client;
use crate::instance::{Backend, Instance, postgres_skipped};

fn serve_answers_health_and_stops_cleanly(backend: Backend) {
    let mut sx = Instance::start(backend);
    let health = Client::new(&sx.base_url).get("/api/v1/health");
    assert_eq!(health.status, 200, "{}", health.text);
    let token = sx.create_user("root", &["admin"], "correct horse battery staple");
    assert!(token.starts_with("sxp_"), "{token}");
    let me = Client::new(&sx.base_url)
        .with_token(&token)
        .get("/api/v1/me");
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json()["user"]["handle"], "root", "{}", me.text);
    let status = sx.stop().expect("the process was running");
    assert!(
        status.success(),
        "serve exited with {status}:\n{}",
        sx.log_text()
    );
}

#[test]
fn serve_on_sqlite_answers_and_stops_cleanly_on_sigterm() {
    serve_answers_health_and_stops_cleanly(Backend::Sqlite);
}

#[test]
fn serve_on_postgres_answers_and_stops_cleanly_on_sigterm() {
    if postgres_skipped() {
        return;
    }
    serve_answers_health_and_stops_cleanly(Backend::Postgres);
}
