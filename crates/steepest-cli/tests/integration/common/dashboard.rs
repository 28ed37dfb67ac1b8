//! Run folders to show and a dashboard server to ask: real finished runs trained by the
//! binary, and a `steepest dashboard` process on a free port, stopped when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Trains `n` small runs under `root` (`run-1`, `run-2`, ...; run i has 4 + 3i epochs, a
/// validation split and a confusion matrix) and returns their ids and epoch counts.
pub fn runs_with_finished(root: &Path, n: usize) -> Vec<(String, usize)> {
    let exe = assert_cmd::cargo::cargo_bin("steepest");
    (1..=n)
        .map(|i| {
            let id = format!("run-{i}");
            let epochs = 4 + 3 * i;
            let (data, model) = match i % 3 {
                1 => ("iris", "logistic"),
                2 => ("iris", "mlp"),
                _ => ("digits", "logistic"),
            };
            let status = Command::new(&exe)
                .args([
                    "train",
                    "--quiet",
                    "--data",
                    data,
                    "--model",
                    model,
                    "--validation",
                    "0.2",
                ])
                .args([
                    "--epochs",
                    &epochs.to_string(),
                    "--lr",
                    &format!("{}", 0.01 * i as f64),
                    "--out",
                ])
                .arg(root.join(&id))
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
            (id, epochs)
        })
        .collect()
}

/// A `steepest dashboard` process.
pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Server {
    /// Serves `root` on a free port.
    pub fn start(root: &Path) -> Server {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("steepest"))
            .args(["dashboard", "--port", "0"])
            .arg(root)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        let addr = url.trim_start_matches("http://").trim_end_matches('/').to_string();
        Server { child, addr }
    }

    /// The page's address.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a raw HTTP request; returns the status code and the body.
pub fn request(addr: &str, raw: &str) -> (u16, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes).unwrap();
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("a header") + 4;
    let head = String::from_utf8_lossy(&bytes[..split]).to_string();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status");
    (code, bytes[split..].to_vec())
}

/// `GET path` with the path sent exactly as given (no normalization); HTTP/1.0, so that the
/// body comes whole, not in chunks.
pub fn get(addr: &str, path: &str) -> (u16, Vec<u8>) {
    request(addr, &format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n"))
}
