//! Input: any bytes, as a PEM certificate credential's text and as a
//! federated token file's content (workload identity).
//!
//! Checks: PEM text is taken or refused with a configuration error, never
//! a panic; a token file is taken as its trimmed, non-empty UTF-8 text,
//! and refused (naming the file) otherwise.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use used_insight::credentials::CertificateCredential;
use used_insight::fuzzing::read_federated_token_file;
use used_insight::Error;

fuzz_target!(|data: &[u8]| {
    match CertificateCredential::from_pem("contoso.onmicrosoft.com", "app", data) {
        Ok(credential) => {
            let shown = format!("{credential:?}");
            assert!(
                !shown.contains("PRIVATE KEY"),
                "Debug shows the key: {shown}"
            );
        }
        Err(Error::InvalidConfig(e)) => assert!(!e.to_string().is_empty()),
        Err(other) => panic!("not a configuration error: {other:?}"),
    }

    let path = token_file();
    std::fs::write(path, data).expect("the token file is writable");
    let read = read_federated_token_file(path);
    let expected = std::str::from_utf8(data)
        .ok()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    match (read, expected) {
        (Ok(token), Some(expected)) => assert_eq!(token, expected),
        (Err(e), None) => assert!(e.to_string().contains(&*path.to_string_lossy())),
        (read, expected) => panic!("read {read:?}, expected {expected:?}"),
    }
});

/// This process's token file, in the temporary directory (scripts/fuzz.sh
/// points `TMPDIR` at one it removes after the run).
fn token_file() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("used-insight-fuzz-token-{}", std::process::id()))
    })
}
