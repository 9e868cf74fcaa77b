//! The binary's own smoke test. Having an integration test here also makes
//! `cargo test --workspace` build `tallymesh`, which the scenario tests in
//! `tests/` run.

use std::process::Command;

#[test]
fn version_flag_prints_the_package_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_tallymesh"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("tallymesh {}", env!("CARGO_PKG_VERSION"))
    );
}
