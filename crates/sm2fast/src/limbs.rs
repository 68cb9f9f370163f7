//! Four 64-bit limbs, little-endian, and Montgomery arithmetic modulo a 256-bit odd modulus.
//!
//! Everything here is branch-free in the values: carries are arithmetic, and the final
//! conditional subtraction selects with a mask, so the field and scalar code built on it is
//! constant time.

pub(crate) type Limbs = [u64; 4];

/// `a + b + carry`, returning (sum, carry out); `carry` is 0 or 1 (the shape LLVM turns
/// into an `adc` chain).
#[inline(always)]
pub(crate) const fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let (s, c1) = a.overflowing_add(b);
    let (s, c2) = s.overflowing_add(carry);
    (s, (c1 | c2) as u64)
}

/// `a - b - borrow`, returning (difference, borrow out); `borrow` is 0 or 1.
#[inline(always)]
pub(crate) const fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let (d, b1) = a.overflowing_sub(b);
    let (d, b2) = d.overflowing_sub(borrow);
    (d, (b1 | b2) as u64)
}

/// `a + b * c + carry`, returning (low, high).
#[inline(always)]
pub(crate) const fn mac(a: u64, b: u64, c: u64, carry: u64) -> (u64, u64) {
    let t = a as u128 + (b as u128) * (c as u128) + carry as u128;
    (t as u64, (t >> 64) as u64)
}

/// `-m^-1 mod 2^64` for odd `m0` (Newton iteration; each step doubles the correct bits).
pub(crate) const fn mont_n0(m0: u64) -> u64 {
    let mut inv: u64 = 1;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(inv)));
        i += 1;
    }
    inv.wrapping_neg()
}

/// `R^2 mod m` with `R = 2^256`, for a modulus above `2^255` (computed at compile time by
/// doubling `R mod m` 256 times).
pub(crate) const fn mont_r2(m: &Limbs) -> Limbs {
    // R mod m = 2^256 - m, since m > 2^255.
    let (r0, b) = sbb(0, m[0], 0);
    let (r1, b) = sbb(0, m[1], b);
    let (r2, b) = sbb(0, m[2], b);
    let (r3, _) = sbb(0, m[3], b);
    let mut r = [r0, r1, r2, r3];
    let mut i = 0;
    while i < 256 {
        r = const_add_mod(&r, &r, m);
        i += 1;
    }
    r
}

const fn const_add_mod(a: &Limbs, b: &Limbs, m: &Limbs) -> Limbs {
    let (s0, c) = adc(a[0], b[0], 0);
    let (s1, c) = adc(a[1], b[1], c);
    let (s2, c) = adc(a[2], b[2], c);
    let (s3, c) = adc(a[3], b[3], c);
    sub_if_ge([s0, s1, s2, s3], c, m)
}

/// `(a, hi)` is a 257-bit value below `2m`; return it reduced below `m`, without branches.
#[inline(always)]
pub(crate) const fn sub_if_ge(a: Limbs, hi: u64, m: &Limbs) -> Limbs {
    let (d0, b) = sbb(a[0], m[0], 0);
    let (d1, b) = sbb(a[1], m[1], b);
    let (d2, b) = sbb(a[2], m[2], b);
    let (d3, b) = sbb(a[3], m[3], b);
    let (_, b) = sbb(hi, 0, b);
    // b = 1: the subtraction went negative, keep a.
    let keep = 0u64.wrapping_sub(b);
    [
        (a[0] & keep) | (d0 & !keep),
        (a[1] & keep) | (d1 & !keep),
        (a[2] & keep) | (d2 & !keep),
        (a[3] & keep) | (d3 & !keep),
    ]
}

#[inline(always)]
pub(crate) const fn add_mod(a: &Limbs, b: &Limbs, m: &Limbs) -> Limbs {
    const_add_mod(a, b, m)
}

#[inline(always)]
pub(crate) const fn sub_mod(a: &Limbs, b: &Limbs, m: &Limbs) -> Limbs {
    let (d0, bw) = sbb(a[0], b[0], 0);
    let (d1, bw) = sbb(a[1], b[1], bw);
    let (d2, bw) = sbb(a[2], b[2], bw);
    let (d3, bw) = sbb(a[3], b[3], bw);
    // Add m back when it went negative (mask, no branch).
    let mask = 0u64.wrapping_sub(bw);
    let (r0, c) = adc(d0, m[0] & mask, 0);
    let (r1, c) = adc(d1, m[1] & mask, c);
    let (r2, c) = adc(d2, m[2] & mask, c);
    let (r3, _) = adc(d3, m[3] & mask, c);
    [r0, r1, r2, r3]
}

/// Montgomery reduction of the 512-bit `t < m * 2^256`: `t * 2^-256 mod m`.
#[inline(always)]
pub(crate) const fn mont_reduce(t: [u64; 8], m: &Limbs, n0: u64) -> Limbs {
    let [t0, mut t1, mut t2, mut t3, mut t4, mut t5, mut t6, mut t7] = t;
    let mut c2;

    let k = t0.wrapping_mul(n0);
    let (_, mut c) = mac(t0, k, m[0], 0);
    (t1, c) = mac(t1, k, m[1], c);
    (t2, c) = mac(t2, k, m[2], c);
    (t3, c) = mac(t3, k, m[3], c);
    (t4, c2) = adc(t4, c, 0);

    let k = t1.wrapping_mul(n0);
    let (_, mut c) = mac(t1, k, m[0], 0);
    (t2, c) = mac(t2, k, m[1], c);
    (t3, c) = mac(t3, k, m[2], c);
    (t4, c) = mac(t4, k, m[3], c);
    (t5, c2) = adc(t5, c, c2);

    let k = t2.wrapping_mul(n0);
    let (_, mut c) = mac(t2, k, m[0], 0);
    (t3, c) = mac(t3, k, m[1], c);
    (t4, c) = mac(t4, k, m[2], c);
    (t5, c) = mac(t5, k, m[3], c);
    (t6, c2) = adc(t6, c, c2);

    let k = t3.wrapping_mul(n0);
    let (_, mut c) = mac(t3, k, m[0], 0);
    (t4, c) = mac(t4, k, m[1], c);
    (t5, c) = mac(t5, k, m[2], c);
    (t6, c) = mac(t6, k, m[3], c);
    (t7, c2) = adc(t7, c, c2);

    sub_if_ge([t4, t5, t6, t7], c2, m)
}

/// `k * (2^192 - 2^160 - 2^32 + 1)` as four limbs: what one Montgomery step adds for the SM2
/// prime. With p = 2^256 - 2^224 - 2^96 + 2^64 - 1 and -p^-1 ≡ 1 (mod 2^64), a step takes
/// k = t_i and adds k·p, which clears limb i and adds this value from limb i+1 on. It is
/// M·2^160 - M with M = k·(2^32 - 1) < 2^96: shifts and subtractions, no multiplication.
#[inline(always)]
const fn sm2p_step(k: u64) -> Limbs {
    let m = ((k as u128) << 32) - k as u128;
    let m_lo = m as u64;
    let m_hi = (m >> 64) as u64;
    let (y0, b) = sbb(0, m_lo, 0);
    let (y1, b) = sbb(0, m_hi, b);
    let (y2, b) = sbb(m_lo << 32, 0, b);
    let (y3, _) = sbb((m_lo >> 32) | (m_hi << 32), 0, b);
    [y0, y1, y2, y3]
}

#[inline(always)]
const fn adc3(a: u64, b: u64, c1: u64, c2: u64) -> (u64, u64) {
    let t = a as u128 + b as u128 + c1 as u128 + c2 as u128;
    (t as u64, (t >> 64) as u64)
}

/// Montgomery reduction modulo the SM2 prime p (see `sm2p_step`), for `t < p * 2^256`.
#[inline(always)]
pub(crate) const fn mont_reduce_sm2p(t: [u64; 8], p: &Limbs) -> Limbs {
    let [t0, t1, t2, t3, t4, t5, t6, t7] = t;

    let y = sm2p_step(t0);
    let (t1, c) = adc(t1, y[0], 0);
    let (t2, c) = adc(t2, y[1], c);
    let (t3, c) = adc(t3, y[2], c);
    let (t4, c2) = adc(t4, y[3], c);

    let y = sm2p_step(t1);
    let (t2, c) = adc(t2, y[0], 0);
    let (t3, c) = adc(t3, y[1], c);
    let (t4, c) = adc(t4, y[2], c);
    let (t5, c2) = adc3(t5, y[3], c, c2);

    let y = sm2p_step(t2);
    let (t3, c) = adc(t3, y[0], 0);
    let (t4, c) = adc(t4, y[1], c);
    let (t5, c) = adc(t5, y[2], c);
    let (t6, c2) = adc3(t6, y[3], c, c2);

    let y = sm2p_step(t3);
    let (t4, c) = adc(t4, y[0], 0);
    let (t5, c) = adc(t5, y[1], c);
    let (t6, c) = adc(t6, y[2], c);
    let (t7, c2) = adc3(t7, y[3], c, c2);

    sub_if_ge([t4, t5, t6, t7], c2, p)
}

/// The full 512-bit product `a * b` (schoolbook, row by row).
#[inline(always)]
pub(crate) const fn mul_wide(a: &Limbs, b: &Limbs) -> [u64; 8] {
    let (r0, c) = mac(0, a[0], b[0], 0);
    let (r1, c) = mac(0, a[0], b[1], c);
    let (r2, c) = mac(0, a[0], b[2], c);
    let (r3, r4) = mac(0, a[0], b[3], c);

    let (r1, c) = mac(r1, a[1], b[0], 0);
    let (r2, c) = mac(r2, a[1], b[1], c);
    let (r3, c) = mac(r3, a[1], b[2], c);
    let (r4, r5) = mac(r4, a[1], b[3], c);

    let (r2, c) = mac(r2, a[2], b[0], 0);
    let (r3, c) = mac(r3, a[2], b[1], c);
    let (r4, c) = mac(r4, a[2], b[2], c);
    let (r5, r6) = mac(r5, a[2], b[3], c);

    let (r3, c) = mac(r3, a[3], b[0], 0);
    let (r4, c) = mac(r4, a[3], b[1], c);
    let (r5, c) = mac(r5, a[3], b[2], c);
    let (r6, r7) = mac(r6, a[3], b[3], c);

    [r0, r1, r2, r3, r4, r5, r6, r7]
}

/// The full 512-bit square `a * a`: the cross products once, doubled, plus the diagonal.
#[inline(always)]
pub(crate) const fn square_wide(a: &Limbs) -> [u64; 8] {
    // Cross products a_i * a_j for i < j.
    let (r1, c) = mac(0, a[0], a[1], 0);
    let (r2, c) = mac(0, a[0], a[2], c);
    let (r3, r4) = mac(0, a[0], a[3], c);

    let (r3, c) = mac(r3, a[1], a[2], 0);
    let (r4, r5) = mac(r4, a[1], a[3], c);

    let (r5, r6) = mac(r5, a[2], a[3], 0);

    // Double them.
    let r7 = r6 >> 63;
    let r6 = (r6 << 1) | (r5 >> 63);
    let r5 = (r5 << 1) | (r4 >> 63);
    let r4 = (r4 << 1) | (r3 >> 63);
    let r3 = (r3 << 1) | (r2 >> 63);
    let r2 = (r2 << 1) | (r1 >> 63);
    let r1 = r1 << 1;

    // Add the squares a_i^2 on the diagonal.
    let (r0, c) = mac(0, a[0], a[0], 0);
    let (r1, c) = adc(r1, c, 0);
    let (r2, c2) = mac(r2, a[1], a[1], c);
    let (r3, c) = adc(r3, c2, 0);
    let (r4, c2) = mac(r4, a[2], a[2], c);
    let (r5, c) = adc(r5, c2, 0);
    let (r6, c2) = mac(r6, a[3], a[3], c);
    let (r7, _) = adc(r7, c2, 0);

    [r0, r1, r2, r3, r4, r5, r6, r7]
}

/// Big-endian 32 bytes to limbs.
#[inline]
pub(crate) fn from_be_bytes(b: &[u8; 32]) -> Limbs {
    let mut out = [0u64; 4];
    for (i, limb) in out.iter_mut().enumerate() {
        let start = 32 - 8 * (i + 1);
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[start..start + 8]);
        *limb = u64::from_be_bytes(w);
    }
    out
}

/// Limbs to big-endian 32 bytes.
#[inline]
pub(crate) fn to_be_bytes(l: &Limbs) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, limb) in l.iter().enumerate() {
        let start = 32 - 8 * (i + 1);
        out[start..start + 8].copy_from_slice(&limb.to_be_bytes());
    }
    out
}

/// `a < m` as 0 or 1 (constant time).
#[inline]
pub(crate) fn lt(a: &Limbs, m: &Limbs) -> u64 {
    let (_, b) = sbb(a[0], m[0], 0);
    let (_, b) = sbb(a[1], m[1], b);
    let (_, b) = sbb(a[2], m[2], b);
    let (_, b) = sbb(a[3], m[3], b);
    b
}

#[inline]
pub(crate) fn is_zero(a: &Limbs) -> u64 {
    let x = a[0] | a[1] | a[2] | a[3];
    // 1 when x == 0, without a branch.
    ((x | x.wrapping_neg()) >> 63) ^ 1
}
