//! The dashboard's HTTP server (tiny_http): the page, and a JSON API over a [`RunsDir`].
//!
//! Routes (GET or HEAD):
//! - `/`: the page (script, styles and the chart library inline);
//! - `/api/runs`: every run's listing row;
//! - `/api/run?id=ID`: one run in full (404 for an id that is not a listed run);
//! - `/api/file?id=ID&name=NAME`: a picture the run's page shows (404 for anything else).
//!
//! A path with a `..` segment, raw or percent-encoded, is refused with 400; other paths are
//! 404; other methods 405. The server only reads, and only what the listing shows.

use super::page;
use super::runs::RunsDir;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use tiny_http::{Header, Method, Request, Response, Server};

/// Worker threads answering requests.
const WORKERS: usize = 4;

/// A running dashboard server.
pub struct Dashboard {
    server: Arc<Server>,
    addr: SocketAddr,
}

impl Dashboard {
    /// Binds `host:port` (port 0: any free port) and starts answering for the runs in `runs`.
    pub fn start(runs: RunsDir, host: &str, port: u16) -> Result<Self, String> {
        let server = Server::http((host, port)).map_err(|e| format!("{host}:{port}: {e}"))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| format!("{host}:{port}: not an IP address"))?;
        let server = Arc::new(server);
        let runs = Arc::new(runs);
        let page = Arc::new(page::html(None));
        for _ in 0..WORKERS {
            let (server, runs, page) = (server.clone(), runs.clone(), page.clone());
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    answer(request, &runs, &page);
                }
            });
        }
        Ok(Self { server, addr })
    }

    /// The page's address.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Blocks the calling thread for as long as the server runs (until the process ends).
    pub fn wait(&self) {
        loop {
            std::thread::park();
        }
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

fn respond(request: Request, status: u16, media: &str, body: Vec<u8>) {
    let response = Response::from_data(body)
        .with_status_code(status)
        .with_header(header("Content-Type", media))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"));
    // A client that went away is not the server's problem.
    let _ = request.respond(response);
}

fn respond_json(request: Request, status: u16, value: &serde_json::Value) {
    respond(request, status, "application/json", value.to_string().into_bytes());
}

fn error(request: Request, status: u16, what: &str) {
    respond_json(request, status, &json!({ "error": what }));
}

/// Whether a path has a `..` segment, before or after percent-decoding.
fn climbs(raw: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    [raw, decoded.as_ref()]
        .iter()
        .any(|p| p.split(['/', '\\', '?', '&', '=']).any(|s| s == ".."))
}

fn answer(request: Request, runs: &RunsDir, page: &str) {
    if !matches!(request.method(), Method::Get | Method::Head) {
        return error(request, 405, "only GET and HEAD");
    }
    let url = request.url().to_string();
    if climbs(&url) {
        return error(request, 400, "a path with '..'");
    }
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match path {
        "/" | "/index.html" => respond(request, 200, "text/html; charset=utf-8", page.as_bytes().to_vec()),
        "/api/runs" => {
            let list: Vec<serde_json::Value> = runs.scan().iter().map(|(id, dir)| runs.summary(id, dir)).collect();
            respond_json(
                request,
                200,
                &json!({"root": runs.root().display().to_string(), "runs": list, "live": true}),
            )
        }
        "/api/run" => match param("id").and_then(|id| runs.find(id).map(|d| (id, d))) {
            Some((id, dir)) => {
                let v = runs.detail(id, &dir);
                respond_json(request, 200, &v)
            }
            None => error(request, 404, "no such run"),
        },
        "/api/file" => match (param("id"), param("name")) {
            (Some(id), Some(name)) => match runs.picture(id, name) {
                Some((bytes, media)) => respond(request, 200, media, bytes),
                None => error(request, 404, "no such picture"),
            },
            _ => error(request, 400, "id and name are required"),
        },
        _ => error(request, 404, "not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::climbs;

    #[test]
    fn dot_dot_segments_are_caught_raw_and_encoded() {
        assert!(climbs("/../../etc/passwd"));
        assert!(climbs("/%2e%2e/%2E%2E/etc/passwd"));
        assert!(climbs("/api/file?id=a&name=..%2F..%2Fetc%2Fpasswd"));
        assert!(climbs("/api/file?id=..&name=x.png"));
        assert!(!climbs("/api/file?id=a..b&name=loss.png"));
        assert!(!climbs("/api/runs"));
    }
}
