//! Any text as a run config (`config.toml`, `--config`) parses and resolves into model
//! settings, or gives a one-line error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use steepest_cli::config::RunConfig;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(cfg) = RunConfig::from_toml(&text, "fuzz.toml") {
        let _ = cfg.encode_options();
        let _ = cfg.default_optimizer();
        let _ = cfg.linear_params(Some(3));
        let _ = cfg.mlp_params().map(|p| p.check());
        let _ = cfg.net_params().map(|p| p.check());
        let _ = cfg.to_toml();
    } else if let Err(e) = RunConfig::from_toml(&text, "fuzz.toml") {
        // One line, cut to 300 characters (a character may be several bytes).
        assert!(!e.msg.contains('\n') && e.msg.chars().count() < 400, "{}", e.msg);
    }
});
