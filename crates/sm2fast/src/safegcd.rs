//! Constant-time modular inversion by Bernstein–Yang "divsteps" ("Fast constant-time gcd
//! computation and modular inversion", 2019), for the SM2 prime.
//!
//! The gcd of (f, g) = (p, x) is driven by divsteps: with δ > 0 and g odd,
//! (δ, f, g) → (1 - δ, g, (g - f)/2); with g odd otherwise, (1 + δ, f, (g + f)/2); with g
//! even, (1 + δ, f, g/2). After enough steps g = 0 and f = ±1. Each step only looks at the
//! low bit of g and the sign of δ, so 62 steps at a time run on the low 64 bits of f and g
//! and produce a 2×2 matrix, which then updates the full f, g (exact division by 2^62) and
//! the Bézout coefficients d, e (division by 2^62 mod p, made exact by adding a multiple of
//! p). With δ starting at 1, 741 steps suffice for 256-bit inputs (the paper's Theorem
//! 11.2: ⌊(49·256 + 57)/17⌋); we run 12 × 62 = 744. Every step is a fixed sequence of
//! masked operations, every loop a fixed count.
//!
//! Numbers are five signed 62-bit limbs (the top one carrying the sign).

use crate::limbs::Limbs;

const M62: u64 = u64::MAX >> 2;
const BATCHES: usize = 12;

type Signed62 = [i64; 5];

fn to_s62(x: &Limbs) -> Signed62 {
    [
        (x[0] & M62) as i64,
        (((x[0] >> 62) | (x[1] << 2)) & M62) as i64,
        (((x[1] >> 60) | (x[2] << 4)) & M62) as i64,
        (((x[2] >> 58) | (x[3] << 6)) & M62) as i64,
        (x[3] >> 56) as i64,
    ]
}

/// From limbs each in [0, 2^62) (the top one in [0, 2^8)).
fn from_s62(a: &Signed62) -> Limbs {
    let a = a.map(|l| l as u64);
    [
        a[0] | (a[1] << 62),
        (a[1] >> 2) | (a[2] << 60),
        (a[2] >> 4) | (a[3] << 58),
        (a[3] >> 6) | (a[4] << 56),
    ]
}

/// `m^-1 mod 2^62` for odd m (Newton iteration).
const fn inv62(m0: u64) -> u64 {
    let mut inv: u64 = 1;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(inv)));
        i += 1;
    }
    inv & M62
}

/// 62 divsteps on the low 64 bits of f (odd) and g. Returns δ and the matrix
/// [[u, v], [q, r]] with 2^62·(f', g') = (u·f + v·g, q·f + r·g).
fn divsteps_62(mut delta: i64, mut f: u64, mut g: u64) -> (i64, [i64; 4]) {
    let (mut u, mut v, mut q, mut r) = (1i64, 0i64, 0i64, 1i64);
    for _ in 0..62 {
        // All-ones masks: g odd; swap when also δ > 0.
        let g_odd = 0i64.wrapping_sub((g & 1) as i64);
        let swap = (delta.wrapping_neg() >> 63) & g_odd;
        // On swap: (δ, f, g) ← (-δ, g, -f) and the rows likewise, then the "add" step below
        // turns it into (1 - δ, g, (g - f)/2).
        delta = (delta ^ swap).wrapping_sub(swap);
        let sw = swap as u64;
        let (nf, ng) = (f ^ ((f ^ g) & sw), g ^ ((g ^ f.wrapping_neg()) & sw));
        f = nf;
        g = ng;
        let (nu, nq) = (u ^ ((u ^ q) & swap), q ^ ((q ^ u.wrapping_neg()) & swap));
        let (nv, nr) = (v ^ ((v ^ r) & swap), r ^ ((r ^ v.wrapping_neg()) & swap));
        u = nu;
        q = nq;
        v = nv;
        r = nr;
        // g odd: g ← g + f (and the rows).
        g = g.wrapping_add(f & g_odd as u64);
        q = q.wrapping_add(u & g_odd);
        r = r.wrapping_add(v & g_odd);
        // Halve g; keep the invariant by doubling the f row instead of halving the g row.
        g >>= 1;
        u = u.wrapping_shl(1);
        v = v.wrapping_shl(1);
        delta = delta.wrapping_add(1);
    }
    (delta, [u, v, q, r])
}

/// (f, g) ← (u·f + v·g, q·f + r·g) / 2^62, exactly.
fn update_fg(f: &mut Signed62, g: &mut Signed62, t: &[i64; 4]) {
    let [u, v, q, r] = t.map(|x| x as i128);
    let mut cf = u * f[0] as i128 + v * g[0] as i128;
    let mut cg = q * f[0] as i128 + r * g[0] as i128;
    debug_assert_eq!(cf as u64 & M62, 0);
    debug_assert_eq!(cg as u64 & M62, 0);
    cf >>= 62;
    cg >>= 62;
    for i in 1..5 {
        cf += u * f[i] as i128 + v * g[i] as i128;
        cg += q * f[i] as i128 + r * g[i] as i128;
        f[i - 1] = (cf as u64 & M62) as i64;
        g[i - 1] = (cg as u64 & M62) as i64;
        cf >>= 62;
        cg >>= 62;
    }
    f[4] = cf as i64;
    g[4] = cg as i64;
}

/// (d, e) ← (u·d + v·e, q·d + r·e) / 2^62 mod m, keeping both in (-2m, m).
fn update_de(d: &mut Signed62, e: &mut Signed62, t: &[i64; 4], m: &Signed62, m_inv62: u64) {
    let [u, v, q, r] = *t;
    // Treat a negative d (or e) as d + m, so the products stay in (-2^62·m, 2^62·m).
    let sd = d[4] >> 63;
    let se = e[4] >> 63;
    let mut md = (u & sd).wrapping_add(v & se);
    let mut me = (q & sd).wrapping_add(r & se);
    let (u, v, q, r) = (u as i128, v as i128, q as i128, r as i128);
    let mut cd = u * d[0] as i128 + v * e[0] as i128;
    let mut ce = q * d[0] as i128 + r * e[0] as i128;
    // Subtract w·m with w ∈ [0, 2^62) chosen so the low 62 bits vanish.
    md = md.wrapping_sub((m_inv62.wrapping_mul(cd as u64).wrapping_add(md as u64) & M62) as i64);
    me = me.wrapping_sub((m_inv62.wrapping_mul(ce as u64).wrapping_add(me as u64) & M62) as i64);
    cd += m[0] as i128 * md as i128;
    ce += m[0] as i128 * me as i128;
    debug_assert_eq!(cd as u64 & M62, 0);
    debug_assert_eq!(ce as u64 & M62, 0);
    cd >>= 62;
    ce >>= 62;
    for i in 1..5 {
        cd += u * d[i] as i128 + v * e[i] as i128 + m[i] as i128 * md as i128;
        ce += q * d[i] as i128 + r * e[i] as i128 + m[i] as i128 * me as i128;
        d[i - 1] = (cd as u64 & M62) as i64;
        e[i - 1] = (ce as u64 & M62) as i64;
        cd >>= 62;
        ce >>= 62;
    }
    d[4] = cd as i64;
    e[4] = ce as i64;
}

/// a + (m & mask), limb by limb (no carry propagation; limbs stay well inside i64).
fn add_masked(a: &mut Signed62, m: &Signed62, mask: i64) {
    for (x, y) in a.iter_mut().zip(m) {
        *x += y & mask;
    }
}

fn carry(a: &mut Signed62) {
    for i in 0..4 {
        a[i + 1] += a[i] >> 62;
        a[i] &= M62 as i64;
    }
}

/// `x^-1 mod m` (0 for 0) for an odd 256-bit modulus m and x in [0, m), constant time.
pub(crate) fn invert(x: &Limbs, m_limbs: &Limbs) -> Limbs {
    let m = to_s62(m_limbs);
    let m_inv62 = inv62(m_limbs[0]);
    let mut f = m;
    let mut g = to_s62(x);
    let mut d: Signed62 = [0; 5];
    let mut e: Signed62 = [1, 0, 0, 0, 0];
    let mut delta = 1i64;
    for _ in 0..BATCHES {
        let low = |a: &Signed62| (a[0] as u64) | ((a[1] as u64) << 62);
        let (nd, t) = divsteps_62(delta, low(&f), low(&g));
        delta = nd;
        update_fg(&mut f, &mut g, &t);
        update_de(&mut d, &mut e, &t, &m, m_inv62);
    }
    // Now f = ±1 (for x ≠ 0) and d·x ≡ f (mod m): the inverse is d·f, brought into [0, m).
    // d ∈ (-2m, m): add m if negative → (-m, m); negate if f < 0; add m if negative.
    // The sign masks go through `black_box`: without it LLVM turns the masked additions
    // into branches on the sign.
    let neg = core::hint::black_box(d[4] >> 63);
    add_masked(&mut d, &m, neg);
    carry(&mut d);
    let fneg = core::hint::black_box(f[4] >> 63);
    for x in d.iter_mut() {
        *x = (*x ^ fneg).wrapping_sub(fneg);
    }
    carry(&mut d);
    let neg = core::hint::black_box(d[4] >> 63);
    add_masked(&mut d, &m, neg);
    carry(&mut d);
    from_s62(&d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::P;
    use crate::scalar::N;
    use num_bigint::BigUint;
    use proptest::prelude::*;

    fn big(l: &Limbs) -> BigUint {
        BigUint::from_bytes_be(&crate::limbs::to_be_bytes(l))
    }

    fn check(x: &Limbs, m: &Limbs) {
        let got = big(&invert(x, m));
        let (xb, mb) = (big(x), big(m));
        if xb == BigUint::from(0u8) {
            assert_eq!(got, BigUint::from(0u8));
        } else {
            assert!(got < mb);
            assert_eq!((got * xb) % mb, BigUint::from(1u8));
        }
    }

    #[test]
    fn limb_conversion_round_trips() {
        for x in [P, N, [u64::MAX; 4], [1, 2, 3, 4]] {
            assert_eq!(from_s62(&to_s62(&x)), x);
        }
    }

    #[test]
    fn edge_values() {
        for m in [P, N] {
            let mut m1 = m;
            m1[0] -= 1;
            let mut m2 = m;
            m2[0] -= 2;
            for x in [
                [0; 4],
                [1, 0, 0, 0],
                [2, 0, 0, 0],
                m1,
                m2,
                [0, 0, 0, 1 << 63],
                [u64::MAX, u64::MAX, u64::MAX, 0],
            ] {
                check(&x, &m);
            }
        }
    }

    proptest! {
        #[test]
        fn inverts_mod_p_and_n(b in any::<[u8; 32]>()) {
            let x = crate::limbs::from_be_bytes(&b);
            let xp = crate::limbs::sub_if_ge(x, 0, &P);
            check(&xp, &P);
            let xn = crate::limbs::sub_if_ge(x, 0, &N);
            check(&xn, &N);
        }

        // Inputs with few bits set or long runs drive δ and the matrices to their extremes.
        #[test]
        fn inverts_sparse_values(bits in proptest::collection::vec(0usize..256, 1..4), run in 0usize..256) {
            let mut x = [0u64; 4];
            for b in bits {
                x[b / 64] |= 1 << (b % 64);
            }
            check(&crate::limbs::sub_if_ge(x, 0, &P), &P);
            let mut y = [0u64; 4];
            for b in 0..run {
                y[b / 64] |= 1 << (b % 64);
            }
            check(&crate::limbs::sub_if_ge(y, 0, &P), &P);
        }
    }
}
