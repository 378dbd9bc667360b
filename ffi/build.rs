//! Gives the shared library an soname, so programs linked against one ABI
//! version keep loading a compatible one: `libused_insight.so.MAJOR`, or
//! `libused_insight.so.0.MINOR` while the major version is 0 (where, as in
//! Cargo's semver, a minor bump may break the ABI).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os.ends_with("bsd") {
        println!(
            "cargo:rustc-cdylib-link-arg=-Wl,-soname,libused_insight.so.{}",
            abi_version()
        );
    }
}

fn abi_version() -> String {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    if major == "0" {
        format!("0.{minor}")
    } else {
        major
    }
}
