//! Unguessable ids from the operating system's random source.

/// The alphabet of generated ids: valid in room ids and URLs, unambiguous to read aloud is not a
/// goal (links are copied, not typed).
const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Returns `len` random characters of `A-Za-z0-9`.
///
/// 12 characters carry 71 bits: far beyond guessing a live room by trying links.
///
/// # Panics
/// Never in practice: only if the OS random source fails, which `getrandom` treats as fatal.
pub fn token(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf).expect("the OS random source failed");
        // Rejection sampling keeps every character equally likely (248 = 4 * 62).
        for &b in buf.iter().filter(|&&b| b < 248) {
            if out.len() == len {
                break;
            }
            out.push(ALPHABET[usize::from(b % 62)] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_length_and_alphabet_asked_for() {
        let t = token(12);
        assert_eq!(t.len(), 12);
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(token(12), token(12));
    }
}
