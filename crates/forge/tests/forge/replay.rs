//! A tiny HTTP/1.1 server on 127.0.0.1 that answers recorded-format forge API responses by
//! `METHOD path` and records every request it got (method, path, headers, body).

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub extra: Vec<(String, String)>,
}

impl Reply {
    pub fn json(body: &str) -> Reply {
        Reply {
            status: 200,
            content_type: "application/json",
            body: body.as_bytes().to_vec(),
            extra: vec![],
        }
    }
    pub fn text(body: &str) -> Reply {
        Reply {
            status: 200,
            content_type: "text/plain",
            body: body.as_bytes().to_vec(),
            extra: vec![],
        }
    }
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: b"{\"message\":\"x\"}".to_vec(),
            extra: vec![],
        }
    }
}

#[derive(Debug)]
pub struct ReplayServer {
    pub base: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
}

impl ReplayServer {
    pub fn start() -> ReplayServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::new(Mutex::new(HashMap::new()));
        let (req2, routes2) = (requests.clone(), routes.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (req3, routes3) = (req2.clone(), routes2.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let mut parts = line.split_whitespace();
                        let method = parts.next().unwrap_or("").to_string();
                        let path = parts.next().unwrap_or("").to_string();
                        let mut headers = Vec::new();
                        let mut length = 0usize;
                        loop {
                            let mut h = String::new();
                            reader.read_line(&mut h).unwrap();
                            let h = h.trim_end();
                            if h.is_empty() {
                                break;
                            }
                            if let Some((k, v)) = h.split_once(':') {
                                if k.eq_ignore_ascii_case("content-length") {
                                    length = v.trim().parse().unwrap_or(0);
                                }
                                headers.push((k.trim().to_string(), v.trim().to_string()));
                            }
                        }
                        let mut body = vec![0; length];
                        reader.read_exact(&mut body).unwrap();
                        req3.lock().unwrap().push(Recorded {
                            method: method.clone(),
                            path: path.clone(),
                            headers,
                            body: String::from_utf8_lossy(&body).into_owned(),
                        });
                        // `KEY#patch` answers requests for the patch media type.
                        let wants_patch = req3
                            .lock()
                            .unwrap()
                            .last()
                            .and_then(|r| r.header("accept").map(|a| a.contains("patch")))
                            .unwrap_or(false);
                        let routes = routes3.lock().unwrap();
                        let key = format!("{method} {path}");
                        let reply = wants_patch
                            .then(|| routes.get(&format!("{key}#patch")))
                            .flatten()
                            .or_else(|| routes.get(&key))
                            .cloned()
                            .unwrap_or_else(|| Reply::status(404));
                        drop(routes);
                        let mut head = format!(
                            "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
                            reply.status,
                            reply.content_type,
                            reply.body.len()
                        );
                        for (k, v) in &reply.extra {
                            head.push_str(&format!("{k}: {v}\r\n"));
                        }
                        head.push_str("\r\n");
                        if stream.write_all(head.as_bytes()).is_err()
                            || stream.write_all(&reply.body).is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        ReplayServer {
            base,
            requests,
            routes,
        }
    }

    pub fn on(&self, method_path: &str, reply: Reply) {
        self.routes
            .lock()
            .unwrap()
            .insert(method_path.to_string(), reply);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}
