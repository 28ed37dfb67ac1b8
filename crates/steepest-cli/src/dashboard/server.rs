//! The dashboard's HTTP server (hyper): the page, and a JSON API over a [`RunsDir`].
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
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

/// A running dashboard server (hyper on a small tokio runtime in its own thread; the file
/// reading runs on the runtime's blocking pool).
pub struct Dashboard {
    addr: SocketAddr,
}

impl Dashboard {
    /// Binds `host:port` (port 0: any free port) and starts answering for the runs in `runs`.
    pub fn start(runs: RunsDir, host: &str, port: u16) -> Result<Self, String> {
        let listener = std::net::TcpListener::bind((host, port)).map_err(|e| format!("{host}:{port}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| format!("{host}:{port}: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("{host}:{port}: {e}"))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(8)
            .thread_name("dashboard")
            .enable_io()
            .build()
            .map_err(|e| format!("{host}:{port}: {e}"))?;
        let runs = Arc::new(runs);
        let page = Arc::new(page::html(None));
        std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let (runs, page) = (runs.clone(), page.clone());
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                            let (runs, page) = (runs.clone(), page.clone());
                            let (method, uri) = (req.method().clone(), req.uri().to_string());
                            async move {
                                let answer = tokio::task::spawn_blocking(move || answer(&method, &uri, &runs, &page))
                                    .await
                                    .unwrap_or_else(|_| error(500, "the request failed"));
                                Ok::<_, std::convert::Infallible>(answer)
                            }
                        });
                        // A client that went away is not the server's problem.
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        });
        Ok(Self { addr })
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

type Answer = Response<Full<Bytes>>;

fn respond(status: u16, media: &str, body: Vec<u8>) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    if let Ok(v) = media.parse() {
        h.insert(hyper::header::CONTENT_TYPE, v);
    }
    h.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-store"),
    );
    h.insert(
        hyper::header::X_CONTENT_TYPE_OPTIONS,
        hyper::header::HeaderValue::from_static("nosniff"),
    );
    r
}

fn respond_json(status: u16, value: &serde_json::Value) -> Answer {
    respond(status, "application/json", value.to_string().into_bytes())
}

fn error(status: u16, what: &str) -> Answer {
    respond_json(status, &json!({ "error": what }))
}

/// Whether a path has a `..` segment, before or after percent-decoding.
fn climbs(raw: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    [raw, decoded.as_ref()]
        .iter()
        .any(|p| p.split(['/', '\\', '?', '&', '=']).any(|s| s == ".."))
}

fn answer(method: &Method, url: &str, runs: &RunsDir, page: &str) -> Answer {
    if !matches!(*method, Method::GET | Method::HEAD) {
        return error(405, "only GET and HEAD");
    }
    if climbs(url) {
        return error(400, "a path with '..'");
    }
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match path {
        "/" | "/index.html" => respond(200, "text/html; charset=utf-8", page.as_bytes().to_vec()),
        "/api/runs" => {
            let list: Vec<serde_json::Value> = runs.scan().iter().map(|(id, dir)| runs.summary(id, dir)).collect();
            respond_json(
                200,
                &json!({"root": runs.root().display().to_string(), "runs": list, "live": true}),
            )
        }
        "/api/run" => match param("id").and_then(|id| runs.find(id).map(|d| (id, d))) {
            Some((id, dir)) => respond_json(200, &runs.detail(id, &dir)),
            None => error(404, "no such run"),
        },
        "/api/file" => match (param("id"), param("name")) {
            (Some(id), Some(name)) => match runs.picture(id, name) {
                Some((bytes, media)) => respond(200, media, bytes),
                None => error(404, "no such picture"),
            },
            _ => error(400, "id and name are required"),
        },
        _ => error(404, "not found"),
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
