//! The real server on a TCP port: answers, runs the worker, and stops cleanly on shutdown.

use std::time::Duration;

use sx_server::ConfigLayer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::util::TestApp;

crate::both_backends!(the_server_answers_over_tcp_runs_jobs_and_stops_cleanly_on_shutdown,);

async fn the_server_answers_over_tcp_runs_jobs_and_stops_cleanly_on_shutdown() {
    let app = TestApp::with(ConfigLayer {
        run_worker: Some(true),
        ..ConfigLayer::default()
    })
    .await;
    let alice = app.maintainer("alice").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(sx_server::serve_on(listener, app.state.clone(), async {
        let _ = stop_rx.await;
    }));

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("nosniff") && answer.contains("\"status\":\"ok\""),
        "{answer}"
    );

    // The server's own worker analyses a submission.
    let id = app.submit(&alice).await;
    let mut attached = false;
    for _ in 0..200 {
        if !alice.get(&app, &format!("/api/v1/cases/{id}")).await.json["report"].is_null() {
            attached = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(attached, "the server's worker did not analyse the case");

    stop_tx.send(()).unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port is closed after shutdown"
    );
}
