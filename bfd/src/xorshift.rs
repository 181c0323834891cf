//! A small deterministic pseudo-random generator (xorshift64), so that jitter and discriminator
//! allocation take their randomness as a seed and tests are reproducible. Not for secrets.

/// xorshift64 (Marsaglia), its state never zero.
#[derive(Debug, Clone)]
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A generator whose sequence depends only on `seed`; every seed, 0 included, is usable.
    pub(crate) fn new(seed: u64) -> Self {
        // One splitmix64 step spreads small or similar seeds over the whole state.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        XorShift(if z == 0 { 0x9e37_79b9_7f4a_7c15 } else { z })
    }

    /// The next value of the sequence.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A value in `low..=high` (slightly biased for ranges that do not divide 2^64; fine for jitter).
    pub(crate) fn in_range(&mut self, low: u64, high: u64) -> u64 {
        let span = high.saturating_sub(low).saturating_add(1);
        low + self.next_u64() % span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_zero_seed_works() {
        let mut a = XorShift::new(7);
        let mut b = XorShift::new(7);
        let mut zero = XorShift::new(0);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
            assert_ne!(zero.next_u64(), 0);
            let (x, y) = (a.in_range(750, 900), b.in_range(750, 900));
            assert_eq!(x, y);
            assert!((750..=900).contains(&x));
        }
        assert_ne!(XorShift::new(1).next_u64(), XorShift::new(2).next_u64());
    }
}
