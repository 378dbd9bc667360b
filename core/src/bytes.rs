//! Scans over bytes that run on every create — the JSON writer's and
//! quick reader's search for bytes a string cannot hold as they are, the
//! URL checks' searches and byte-class tests — done eight or sixteen bytes
//! at a time: word-at-a-time bit tricks where the first match matters,
//! whole vector-friendly chunks where only "all of them?" does.

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// The eight bytes at `start` as a little-endian word, if there are eight.
fn word_at(bytes: &[u8], start: usize) -> Option<u64> {
    let word: [u8; 8] = bytes.get(start..start + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(word))
}

/// The bytes of `w` equal to `b`, a high bit each. Exact up to the lowest
/// one (a borrow can flag bytes above it), which is all the callers use.
fn equal_bytes(w: u64, b: u8) -> u64 {
    let v = w ^ (ONES * u64::from(b));
    v.wrapping_sub(ONES) & !v & HIGHS
}

/// The index of the lowest flagged byte of a non-zero mask.
fn lowest_flagged(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// How many leading bytes of `bytes` JSON can hold in a string as they
/// are: neither a quote, a backslash nor a control character. Eight bytes
/// at a time (the usual bit tricks find the first such byte in a word); the
/// JSON writer and the quick reader spend most of their time here.
pub(crate) fn plain_prefix_len(bytes: &[u8]) -> usize {
    let mut start = 0;
    while let Some(w) = word_at(bytes, start) {
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
        let special = equal_bytes(w, b'"') | equal_bytes(w, b'\\') | control;
        if special != 0 {
            // The lowest flagged byte is a true one in each mask, so in all.
            return start + lowest_flagged(special);
        }
        start += 8;
    }
    start
        + bytes[start..]
            .iter()
            .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
            .unwrap_or(bytes.len() - start)
}

/// The index of the first byte equal to `b`.
pub(crate) fn find_byte(bytes: &[u8], b: u8) -> Option<usize> {
    let mut start = 0;
    while let Some(w) = word_at(bytes, start) {
        let found = equal_bytes(w, b);
        if found != 0 {
            return Some(start + lowest_flagged(found));
        }
        start += 8;
    }
    bytes[start..]
        .iter()
        .position(|&c| c == b)
        .map(|i| start + i)
}

/// The index of the first byte equal to `a` or `b`.
pub(crate) fn find_either(bytes: &[u8], a: u8, b: u8) -> Option<usize> {
    let mut start = 0;
    while let Some(w) = word_at(bytes, start) {
        let found = equal_bytes(w, a) | equal_bytes(w, b);
        if found != 0 {
            return Some(start + lowest_flagged(found));
        }
        start += 8;
    }
    bytes[start..]
        .iter()
        .position(|&c| c == a || c == b)
        .map(|i| start + i)
}

/// Whether `ok` holds for every byte. Sixteen bytes at a time without an
/// early exit, which the compiler turns into vector compares when `ok` is
/// a few ranges; a short slice is padded with `filler` (for which `ok`
/// must hold), a ragged end tested as the last sixteen bytes again.
pub(crate) fn every_byte(bytes: &[u8], filler: u8, ok: impl Fn(u8) -> bool + Copy) -> bool {
    let all = |chunk: &[u8; 16]| chunk.iter().fold(true, |all, &b| all & ok(b));
    if bytes.len() < 16 {
        let mut padded = [filler; 16];
        padded[..bytes.len()].copy_from_slice(bytes);
        return all(&padded);
    }
    let last: &[u8; 16] = match bytes[bytes.len() - 16..].try_into() {
        Ok(last) => last,
        Err(_) => return false, // sixteen bytes, as sliced
    };
    bytes
        .chunks_exact(16)
        .all(|chunk| chunk.try_into().is_ok_and(|chunk: &[u8; 16]| all(chunk)))
        && all(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random slices of up to 40 bytes, mostly letters, with `special`
    /// bytes and any byte mixed in.
    fn samples(seed: u64, special: &[u8]) -> Vec<Vec<u8>> {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..50_000)
            .map(|_| {
                let len = rng.usize(0..40);
                (0..len)
                    .map(|_| match rng.u8(0..8) {
                        0 => special[rng.usize(0..special.len())],
                        1 => rng.u8(..),
                        _ => rng.u8(b'a'..=b'z'),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_plain_prefix_ends_at_the_first_quote_backslash_or_control() {
        fn bytewise(bytes: &[u8]) -> usize {
            bytes
                .iter()
                .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
                .unwrap_or(bytes.len())
        }
        let mut rng = fastrand::Rng::with_seed(8);
        let special = [
            b'"', b'\\', 0, 0x1f, b'\n', 0x20, 0x21, 0x7f, 0x80, 0xff, 0x5b, 0x5d,
        ];
        for _ in 0..50_000 {
            let len = rng.usize(0..40);
            let bytes: Vec<u8> = (0..len)
                .map(|_| match rng.u8(0..8) {
                    0 => special[rng.usize(0..special.len())],
                    1 => rng.u8(..),
                    _ => rng.u8(b'a'..=b'z'),
                })
                .collect();
            assert_eq!(plain_prefix_len(&bytes), bytewise(&bytes), "{bytes:?}");
        }
    }

    #[test]
    fn find_either_and_find_byte_find_the_first() {
        for bytes in samples(9, b"/?:.\x00\xff") {
            let bytewise = bytes.iter().position(|&b| b == b'/' || b == b'?');
            assert_eq!(find_either(&bytes, b'/', b'?'), bytewise, "{bytes:?}");
            let colon = bytes.iter().position(|&b| b == b':');
            assert_eq!(find_either(&bytes, b':', b':'), colon, "{bytes:?}");
            assert_eq!(find_byte(&bytes, b':'), colon, "{bytes:?}");
        }
    }

    #[test]
    fn every_byte_is_all() {
        let ok = |b: u8| b.is_ascii_lowercase() || b == b'-';
        for bytes in samples(10, b"-A0 \x00\xff") {
            assert_eq!(
                every_byte(&bytes, b'a', ok),
                bytes.iter().all(|&b| ok(b)),
                "{bytes:?}"
            );
        }
    }
}
