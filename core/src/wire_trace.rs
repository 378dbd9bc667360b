//! ureq-proto, under ureq, writes every byte of every HTTP exchange to the
//! `log` facade at TRACE (target `ureq_proto::util`, 16 bytes a line as hex
//! and text): request heads with `Authorization: Bearer …`, and answers,
//! among them the token endpoints' `access_token`. A library cannot filter
//! another crate's records — the application's logger does — and capping
//! `log`'s level at compile time would silence the application's own
//! TRACE records too. So when the installed logger would record those
//! dumps, this says so, once per process, as a warning that names the
//! filter to set.

use std::sync::atomic::{AtomicBool, Ordering};

/// The target of ureq-proto's hex dumps.
pub(crate) const WIRE_DUMP_TARGET: &str = "ureq_proto::util";

static WARNED: AtomicBool = AtomicBool::new(false);

/// Warns once per process if the installed logger records ureq-proto's
/// TRACE dumps. Costs one atomic load when the level is below TRACE.
pub(crate) fn warn_if_recorded() {
    if log::max_level() < log::LevelFilter::Trace || WARNED.load(Ordering::Relaxed) {
        return;
    }
    let dumps = log::Metadata::builder()
        .level(log::Level::Trace)
        .target(WIRE_DUMP_TARGET)
        .build();
    if log::logger().enabled(&dumps) && !WARNED.swap(true, Ordering::Relaxed) {
        log::warn!(
            "the installed logger records TRACE from `{WIRE_DUMP_TARGET}`, whose hex dumps \
             of every HTTP exchange include the bearer token and token endpoints' answers: \
             keep `ureq_proto` at DEBUG or above (e.g. RUST_LOG=trace,ureq_proto=debug)"
        );
    }
}
