//! Headless Chromium driven over the Chrome DevTools Protocol (a websocket): open a page,
//! evaluate script in it, wait for a condition, take a screenshot.
//!
//! The browser is Debian's `chromium` (or `$STEEPEST_CHROMIUM`). Where it is missing the
//! browser tests are skipped with a message, unless `STEEPEST_BROWSER_TESTS=required` (set by
//! `.ci/run`, which installs it), where a missing browser fails them.

use base64::Engine;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{stream::MaybeTlsStream, Message, WebSocket};

/// The browser to use, or `None` (with the reason printed) when the tests should be skipped.
pub fn chromium() -> Option<PathBuf> {
    let candidates = std::env::var("STEEPEST_CHROMIUM")
        .ok()
        .into_iter()
        .chain(["chromium", "chromium-browser", "google-chrome"].map(String::from));
    for c in candidates {
        let found = Command::new(&c)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if found {
            return Some(PathBuf::from(c));
        }
    }
    let required = std::env::var("STEEPEST_BROWSER_TESTS").is_ok_and(|v| v == "required");
    assert!(!required, "STEEPEST_BROWSER_TESTS=required but no chromium was found");
    eprintln!("skipped: no chromium here (apt-get install chromium, or run .ci/run)");
    None
}

/// A headless browser and one page in it.
pub struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next: u64,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `exe` headless with an empty page of `width` x `height`.
    pub fn start(exe: &Path, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(exe)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--window-size={width},{height}"))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("ws://") {
                    let _ = tx.send(line[i..].trim().to_string());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("chromium printed its DevTools address");
        let (ws, _) = tungstenite::connect(url.as_str()).unwrap();
        let mut b = Browser {
            child,
            ws,
            next: 0,
            session: String::new(),
            _profile: profile,
        };
        // The page the browser opened (a foreground tab: background tabs have their timers
        // throttled).
        let targets = b.call("Target.getTargets", json!({}));
        let id = targets["targetInfos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .map(|t| t["targetId"].as_str().unwrap().to_string())
            .expect("a page");
        let attached = b.call("Target.attachToTarget", json!({"targetId": id, "flatten": true}));
        b.session = attached["sessionId"].as_str().unwrap().to_string();
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        b.call("Page.enable", json!({}));
        b.call("Page.bringToFront", json!({}));
        b
    }

    /// Sends one command (to the page once attached) and returns its result.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.ws.send(Message::text(msg.to_string())).unwrap();
        loop {
            let m = self.ws.read().unwrap();
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["id"] == id {
                if let Some(e) = v.get("error") {
                    panic!("{method}: {e}");
                }
                return v["result"].clone();
            }
        }
    }

    /// Cuts the page off the network (a report must need none).
    pub fn offline(&mut self) {
        self.call("Network.enable", json!({}));
        self.call(
            "Network.emulateNetworkConditions",
            json!({"offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        );
    }

    /// Opens `url`.
    pub fn navigate(&mut self, url: &str) {
        let r = self.call("Page.navigate", json!({"url": url}));
        assert!(r.get("errorText").is_none(), "{url}: {r}");
    }

    /// The value of a script expression (awaited when it is a promise), or the exception it
    /// threw.
    pub fn try_eval(&mut self, expr: &str) -> Result<Value, Value> {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        match r.get("exceptionDetails") {
            Some(e) => Err(e.clone()),
            None => Ok(r["result"]["value"].clone()),
        }
    }

    /// The value of a script expression (awaited when it is a promise).
    pub fn eval(&mut self, expr: &str) -> Value {
        self.try_eval(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
    }

    /// Waits until `expr` is true; panics with `what` and the last value of `show` after
    /// `secs` seconds.
    pub fn wait_for(&mut self, expr: &str, secs: u64, show: &str) {
        let t0 = Instant::now();
        loop {
            // A page still loading may not have the elements yet: not true.
            if self.try_eval(expr) == Ok(json!(true)) {
                return;
            }
            if t0.elapsed() > Duration::from_secs(secs) {
                let seen = self.try_eval(show);
                let problem = self.try_eval("(document.getElementById('problem') || {}).textContent");
                panic!("waited {secs} s for {expr}; {show} = {seen:?}; the page's problem line: {problem:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Saves a PNG of the page's viewport.
    pub fn screenshot(&mut self, path: &Path) {
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).unwrap();
        }
        std::fs::write(path, bytes).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the browser tests leave their screenshots: `target/screenshots/`.
pub fn artifacts() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/")
        .join("screenshots")
}
