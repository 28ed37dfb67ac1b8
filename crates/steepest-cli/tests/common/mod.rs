//! Helpers shared by integration tests (each test file uses a part of them).
#![allow(dead_code)]

pub mod browser;
pub mod dashboard;
