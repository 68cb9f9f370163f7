//! Points of the SM2 recommended curve y^2 = x^3 - 3x + b (GB/T 32918.5), in affine and
//! Jacobian coordinates (X/Z^2, Y/Z^3; Z = 0 is the point at infinity).
//!
//! * `mul_base` (k·G, secret k): a fixed-base table of 43 rows of 32 affine points
//!   (row i holds j·2^(6i)·G for j = 1..32), built once. k is recoded into 43 signed
//!   digits in [-32, 32] (Booth recoding of 6-bit windows); each row is scanned entirely
//!   with conditional selects, the sign applied by a conditional negation, and the point
//!   added with a mixed addition whose exceptional cases are excluded by construction and
//!   whose "accumulator is infinity" / "digit is zero" cases are fixed by selects. No
//!   doublings, no secret-dependent branch or memory index.
//! * `mul_double_vartime` (s·G + t·P, public s, t, P): both scalars are cut into eight
//!   32-bit chunks over 2^(32j)·P and 2^(32j)·G, j = 0..8 (odd multiples: a per-key table
//!   for P with width-5 wNAF digits, a static one for G with width 8), so the sixteen
//!   partial products share 32 doublings.

use std::sync::OnceLock;

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use crate::field::Fe;
use crate::scalar::Scalar;

/// b of the recommended curve.
pub(crate) const B_BYTES: [u8; 32] =
    hex32("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");
/// a = p - 3.
pub(crate) const A_BYTES: [u8; 32] =
    hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC");
pub(crate) const GX_BYTES: [u8; 32] =
    hex32("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
pub(crate) const GY_BYTES: [u8; 32] =
    hex32("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0");

const fn hex32(s: &str) -> [u8; 32] {
    const fn nib(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("bad hex"),
        }
    }
    let b = s.as_bytes();
    assert!(b.len() == 64);
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nib(b[2 * i]) << 4) | nib(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn limbs_of(b: &[u8; 32]) -> [u64; 4] {
    let mut out = [0u64; 4];
    let mut i = 0;
    while i < 4 {
        let mut w = 0u64;
        let mut j = 0;
        while j < 8 {
            w = (w << 8) | b[32 - 8 * (i + 1) + j] as u64;
            j += 1;
        }
        out[i] = w;
        i += 1;
    }
    out
}

const CURVE_B: Fe = Fe::from_limbs_const(limbs_of(&B_BYTES));
pub(crate) const G: Affine = Affine {
    x: Fe::from_limbs_const(limbs_of(&GX_BYTES)),
    y: Fe::from_limbs_const(limbs_of(&GY_BYTES)),
};

/// A finite point (never infinity).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Affine {
    pub(crate) x: Fe,
    pub(crate) y: Fe,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Jacobian {
    pub(crate) x: Fe,
    pub(crate) y: Fe,
    pub(crate) z: Fe,
}

impl Affine {
    /// y^2 == x^3 - 3x + b.
    pub(crate) fn is_on_curve(&self) -> bool {
        let lhs = self.y.square();
        let x3 = self.x.square().mul(&self.x);
        let three_x = self.x.double().add(&self.x);
        let rhs = x3.sub(&three_x).add(&CURVE_B);
        lhs.eq_vartime(&rhs)
    }

    /// SEC 1 uncompressed `04 || x || y`; the point must be on the curve (so it is not
    /// infinity, which has no such encoding).
    pub(crate) fn from_uncompressed(b: &[u8; 65]) -> Option<Affine> {
        if b[0] != 0x04 {
            return None;
        }
        let x = Fe::from_bytes(b[1..33].try_into().ok()?)?;
        let y = Fe::from_bytes(b[33..65].try_into().ok()?)?;
        let p = Affine { x, y };
        p.is_on_curve().then_some(p)
    }

    pub(crate) fn to_uncompressed(self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[0] = 0x04;
        out[1..33].copy_from_slice(&self.x.to_bytes());
        out[33..].copy_from_slice(&self.y.to_bytes());
        out
    }

    fn neg(&self) -> Affine {
        Affine {
            x: self.x,
            y: self.y.neg(),
        }
    }
}

impl ConditionallySelectable for Affine {
    #[inline(always)]
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Affine {
            x: Fe::conditional_select(&a.x, &b.x, choice),
            y: Fe::conditional_select(&a.y, &b.y, choice),
        }
    }
}

impl ConditionallySelectable for Jacobian {
    #[inline(always)]
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Jacobian {
            x: Fe::conditional_select(&a.x, &b.x, choice),
            y: Fe::conditional_select(&a.y, &b.y, choice),
            z: Fe::conditional_select(&a.z, &b.z, choice),
        }
    }
}

impl Jacobian {
    pub(crate) const INFINITY: Jacobian = Jacobian {
        x: Fe::ONE,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    pub(crate) fn from_affine(p: &Affine) -> Jacobian {
        Jacobian {
            x: p.x,
            y: p.y,
            z: Fe::ONE,
        }
    }

    fn is_infinity_vartime(&self) -> bool {
        bool::from(self.z.is_zero())
    }

    /// 2·self for a = -3 (3M + 5S, "dbl-2001-b" in the Explicit-Formulas Database).
    /// Exception-free: infinity stays infinity (Z3 = 0) and there is no point of order 2.
    #[inline]
    pub(crate) fn double(&self) -> Jacobian {
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x.mul(&gamma);
        let t = self.x.sub(&delta).mul(&self.x.add(&delta));
        let alpha = t.double().add(&t);
        let beta4 = beta.double().double();
        let x3 = alpha.square().sub(&beta4.double());
        let z3 = self.y.add(&self.z).square().sub(&gamma).sub(&delta);
        let gamma2_8 = gamma.square().double().double().double();
        let y3 = alpha.mul(&beta4.sub(&x3)).sub(&gamma2_8);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// self + q with q affine (8M + 3S). Only valid when self is finite and self ≠ ±q;
    /// callers handle those cases.
    #[inline]
    fn add_affine_unchecked(&self, q: &Affine) -> (Jacobian, Fe, Fe) {
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z.mul(&z1z1));
        let h = u2.sub(&self.x);
        let r = s2.sub(&self.y);
        let hh = h.square();
        let hhh = h.mul(&hh);
        let v = self.x.mul(&hh);
        let x3 = r.square().sub(&hhh).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&self.y.mul(&hhh));
        let z3 = self.z.mul(&h);
        (
            Jacobian {
                x: x3,
                y: y3,
                z: z3,
            },
            h,
            r,
        )
    }

    /// self + q, all cases, variable time (public data only).
    pub(crate) fn add_affine_vartime(&self, q: &Affine) -> Jacobian {
        if self.is_infinity_vartime() {
            return Jacobian::from_affine(q);
        }
        let (sum, h, r) = self.add_affine_unchecked(q);
        if bool::from(h.is_zero()) {
            if bool::from(r.is_zero()) {
                return self.double();
            }
            return Jacobian::INFINITY;
        }
        sum
    }

    /// self + q, all cases, variable time (12M + 4S).
    pub(crate) fn add_vartime(&self, q: &Jacobian) -> Jacobian {
        if self.is_infinity_vartime() {
            return *q;
        }
        if q.is_infinity_vartime() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = q.z.square();
        let u1 = self.x.mul(&z2z2);
        let u2 = q.x.mul(&z1z1);
        let s1 = self.y.mul(&q.z.mul(&z2z2));
        let s2 = q.y.mul(&self.z.mul(&z1z1));
        let h = u2.sub(&u1);
        let r = s2.sub(&s1);
        if bool::from(h.is_zero()) {
            if bool::from(r.is_zero()) {
                return self.double();
            }
            return Jacobian::INFINITY;
        }
        let hh = h.square();
        let hhh = h.mul(&hh);
        let v = u1.mul(&hh);
        let x3 = r.square().sub(&hhh).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&s1.mul(&hhh));
        let z3 = self.z.mul(&q.z).mul(&h);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// The affine point (constant time), or `None` for infinity.
    pub(crate) fn to_affine(self) -> Option<Affine> {
        let zi = self.z.invert();
        let zi2 = zi.square();
        let p = Affine {
            x: self.x.mul(&zi2),
            y: self.y.mul(&zi2.mul(&zi)),
        };
        (!bool::from(self.z.is_zero())).then_some(p)
    }

    /// Many finite points to affine with one inversion (public data only).
    fn batch_to_affine(points: &[Jacobian]) -> Vec<Affine> {
        let mut zs: Vec<Fe> = points.iter().map(|p| p.z).collect();
        Fe::batch_invert(&mut zs);
        points
            .iter()
            .zip(zs)
            .map(|(p, zi)| {
                let zi2 = zi.square();
                Affine {
                    x: p.x.mul(&zi2),
                    y: p.y.mul(&zi2.mul(&zi)),
                }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Fixed-base multiplication k·G.

const W: usize = 6;
const ROWS: usize = 43; // 43 * 6 = 258 bits: 256 bits plus room for the last carry
const COLS: usize = 1 << (W - 1); // digits in [-32, 32]

type BaseTable = Vec<[Affine; COLS]>;

fn base_table() -> &'static BaseTable {
    static TABLE: OnceLock<BaseTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut all = Vec::with_capacity(ROWS * COLS);
        let mut base = Jacobian::from_affine(&G);
        for _ in 0..ROWS {
            let mut row = [base; COLS];
            for j in 1..COLS {
                row[j] = row[j - 1].add_vartime(&base);
            }
            // next base = 2^6 · base = 2 · (32 · base)
            base = row[COLS - 1].double();
            all.extend_from_slice(&row);
        }
        let affine = Jacobian::batch_to_affine(&all);
        affine
            .chunks_exact(COLS)
            .map(|c| <[Affine; COLS]>::try_from(c).expect("row length"))
            .collect()
    })
}

/// Builds the static tables now rather than on first use.
pub(crate) fn precompute() {
    let _ = base_table();
    let _ = g_table();
}

/// Bits `pos .. pos + 7` of `k` (public positions), bits outside 0..256 read as zero.
#[inline(always)]
fn window7(k: &[u64; 4], pos: isize) -> u64 {
    let get = |p: isize| -> u64 {
        // 64 bits starting at p (p may be negative or beyond 255).
        if p >= 256 {
            return 0;
        }
        if p < 0 {
            return k[0] << (-p) as u32;
        }
        let (limb, off) = ((p / 64) as usize, (p % 64) as u32);
        let lo = k[limb] >> off;
        let hi = if off != 0 && limb + 1 < 4 {
            k[limb + 1] << (64 - off)
        } else {
            0
        };
        lo | hi
    };
    get(pos) & 0x7f
}

/// The signed digit of window `i`: value in [-32, 32] as (|d|, d < 0), computed without
/// branches on k.
#[inline(always)]
fn booth_digit(k: &[u64; 4], i: usize) -> (u64, u64) {
    let v = window7(k, (W * i) as isize - 1);
    // d = b_{-1} + (bits 0..4) - 32 * b_5, with v = b_5 b_4 .. b_0 b_{-1}
    let d = ((v >> 1) + (v & 1)) as i64 - (((v >> 6) & 1) << 6) as i64;
    let sign = (d >> 63) as u64; // all ones when negative
    let abs = ((d as u64) ^ sign).wrapping_sub(sign);
    (abs, sign & 1)
}

/// The entry `abs - 1` of a row (all zeros for `abs = 0`), reading every entry: the 32
/// masks (all-ones for the wanted entry, zero elsewhere) are computed arithmetically and
/// passed through `black_box`, so the compiler cannot turn them back into a comparison and
/// a branch; each entry is then AND-ed with its mask and OR-ed in, which vectorises.
#[inline(always)]
fn select_row(row: &[Affine; COLS], abs: u64) -> Affine {
    let mut masks = [0u64; COLS];
    for (j, m) in masks.iter_mut().enumerate() {
        let x = abs ^ (j as u64 + 1);
        // x == 0 → all ones, else zero
        *m = ((x | x.wrapping_neg()) >> 63).wrapping_sub(1);
    }
    let masks = core::hint::black_box(masks);
    let mut acc = [0u64; 8];
    for (entry, mask) in row.iter().zip(masks) {
        let limbs = [
            entry.x.0[0],
            entry.x.0[1],
            entry.x.0[2],
            entry.x.0[3],
            entry.y.0[0],
            entry.y.0[1],
            entry.y.0[2],
            entry.y.0[3],
        ];
        for (a, l) in acc.iter_mut().zip(limbs) {
            *a |= l & mask;
        }
    }
    Affine {
        x: Fe([acc[0], acc[1], acc[2], acc[3]]),
        y: Fe([acc[4], acc[5], acc[6], acc[7]]),
    }
}

/// k·G for secret k in [1, n-1], constant time.
pub(crate) fn mul_base(k: &Scalar) -> Jacobian {
    let table = base_table();
    let mut acc = Jacobian::INFINITY;
    // Rows from the lowest: acc holds Σ_{j<i} d_j 2^(6j) G, always of smaller magnitude
    // than the row's point, so acc ≠ ±q (see the crate docs); only the last row can meet
    // acc = -q, which would make k ≡ 0 (excluded).
    for (i, row) in table.iter().enumerate() {
        let (abs, neg) = booth_digit(&k.0, i);
        let mut q = select_row(row, abs);
        let negy = q.y.neg();
        q.y.conditional_assign(&negy, Choice::from(neg as u8));
        let (sum, _, _) = acc.add_affine_unchecked(&q);
        let acc_inf = acc.z.is_zero();
        let mut next = Jacobian::conditional_select(&sum, &Jacobian::from_affine(&q), acc_inf);
        next.conditional_assign(&acc, abs.ct_eq(&0));
        acc = next;
    }
    acc
}

// ---------------------------------------------------------------------------------------
// Verification: s·G + t·P, variable time.

const PW: usize = 5; // wNAF width for P
const PODD: usize = 1 << (PW - 2); // odd multiples 1, 3, .., 15
const SPLIT: usize = 8; // t is cut into 8 chunks of 32 bits
const CHUNK: usize = 256 / SPLIT;

/// Odd multiples of P, 2^32·P, …, 2^224·P (affine): `t[j][m] = (2m+1)·2^(32j)·P`.
#[derive(Clone, Debug)]
pub(crate) struct PointTable(Box<[[Affine; PODD]; SPLIT]>);

impl PointTable {
    pub(crate) fn new(p: &Affine) -> PointTable {
        let rows = odd_multiples::<PODD>(p);
        PointTable(Box::new(rows.try_into().expect("SPLIT rows")))
    }
}

/// `SPLIT` rows of `ODD` odd multiples: row j holds (2m+1)·2^(CHUNK·j)·P (public data).
fn odd_multiples<const ODD: usize>(p: &Affine) -> Vec<[Affine; ODD]> {
    let mut all = Vec::with_capacity(SPLIT * ODD);
    let mut base = Jacobian::from_affine(p);
    for j in 0..SPLIT {
        let twice = base.double();
        let mut m = base;
        all.push(m);
        for _ in 1..ODD {
            m = m.add_vartime(&twice);
            all.push(m);
        }
        if j + 1 < SPLIT {
            for _ in 0..CHUNK {
                base = base.double();
            }
        }
    }
    Jacobian::batch_to_affine(&all)
        .chunks_exact(ODD)
        .map(|c| <[Affine; ODD]>::try_from(c).expect("row length"))
        .collect()
}

const GW: usize = 8; // wNAF width for G in verification
const GODD: usize = 1 << (GW - 2); // odd multiples 1, 3, .., 127

/// The same split for G with a wider window, built once (32 KiB).
fn g_table() -> &'static [[Affine; GODD]] {
    static TABLE: OnceLock<Vec<[Affine; GODD]>> = OnceLock::new();
    TABLE.get_or_init(|| odd_multiples::<GODD>(&G))
}

/// Width-`w` NAF of a `CHUNK`-bit value: digits odd in (-2^(w-1), 2^(w-1)) or zero, at
/// most `CHUNK + 1` of them.
fn wnaf_chunk(v: u64, w: u32) -> [i16; CHUNK + 1] {
    let mut out = [0i16; CHUNK + 1];
    let mut k = v as i128;
    let mut i = 0;
    while k != 0 {
        if k & 1 == 1 {
            let mut d = (k & ((1 << w) - 1)) as i32;
            if d >= 1 << (w - 1) {
                d -= 1 << w;
            }
            k -= d as i128;
            out[i] = d as i16;
        }
        k >>= 1;
        i += 1;
    }
    out
}

/// The wNAF digits of the `SPLIT` chunks of a scalar.
fn split_wnaf(k: &Scalar, w: u32) -> [[i16; CHUNK + 1]; SPLIT] {
    let mut nafs = [[0i16; CHUNK + 1]; SPLIT];
    for (j, naf) in nafs.iter_mut().enumerate() {
        let bit = j * CHUNK;
        let chunk = (k.0[bit / 64] >> (bit % 64)) & (u64::MAX >> (64 - CHUNK));
        *naf = wnaf_chunk(chunk, w);
    }
    nafs
}

#[inline(always)]
fn add_digit<const ODD: usize>(acc: &Jacobian, row: &[Affine; ODD], d: i16) -> Jacobian {
    let q = row[(d.unsigned_abs() / 2) as usize];
    let q = if d < 0 { q.neg() } else { q };
    acc.add_affine_vartime(&q)
}

/// s·G + t·P, variable time (all inputs public): both scalars cut into 32-bit chunks over
/// precomputed 2^(32j) multiples, so the two share 32 doublings.
pub(crate) fn mul_double_vartime(s: &Scalar, t: &Scalar, pt: &PointTable) -> Jacobian {
    let tn = split_wnaf(t, PW as u32);
    let sn = split_wnaf(s, GW as u32);
    let gt = g_table();
    let mut acc = Jacobian::INFINITY;
    let mut started = false;
    for i in (0..=CHUNK).rev() {
        if started {
            acc = acc.double();
        }
        for j in 0..SPLIT {
            let d = tn[j][i];
            if d != 0 {
                acc = add_digit(&acc, &pt.0[j], d);
                started = true;
            }
            let d = sn[j][i];
            if d != 0 {
                acc = add_digit(&acc, &gt[j], d);
                started = true;
            }
        }
    }
    acc
}

/// Width-`w` NAF of a 256-bit scalar: 257 digits, odd in (-2^(w-1), 2^(w-1)) or zero.
fn wnaf_full(k: &Scalar, w: u32) -> [i16; 257] {
    let mut out = [0i16; 257];
    let width = 1u64 << w;
    let mask = width - 1;
    let bits_at = |pos: usize| -> u64 {
        let (limb, off) = (pos / 64, pos % 64);
        let lo = if limb < 4 { k.0[limb] >> off } else { 0 };
        let hi = if off != 0 && limb + 1 < 4 {
            k.0[limb + 1] << (64 - off)
        } else {
            0
        };
        lo | hi
    };
    let mut pos = 0;
    let mut carry = 0u64;
    while pos < 257 {
        let window = carry + (bits_at(pos) & mask);
        if window & 1 == 0 {
            // An even window: this digit is zero; a pending carry met a one bit here and
            // moves up unchanged.
            pos += 1;
            continue;
        }
        if window < width / 2 {
            carry = 0;
            out[pos] = window as i16;
        } else {
            carry = 1;
            out[pos] = window as i16 - width as i16;
        }
        pos += w as usize;
    }
    out
}

/// s·G + t·P without a per-key table, for a key's first verification: 256 doublings for t
/// (width-5 wNAF over 8 odd multiples of P), with s·G's chunks added in the last 33 steps.
pub(crate) fn mul_double_vartime_untabled(s: &Scalar, t: &Scalar, p: &Affine) -> Jacobian {
    let base = Jacobian::from_affine(p);
    let twice = base.double();
    let mut odd = [base; PODD];
    for m in 1..PODD {
        odd[m] = odd[m - 1].add_vartime(&twice);
    }
    let odd: [Affine; PODD] = Jacobian::batch_to_affine(&odd)
        .try_into()
        .expect("PODD points");
    let tn = wnaf_full(t, PW as u32);
    let sn = split_wnaf(s, GW as u32);
    let gt = g_table();
    let mut acc = Jacobian::INFINITY;
    let mut started = false;
    for i in (0..257).rev() {
        if started {
            acc = acc.double();
        }
        if tn[i] != 0 {
            acc = add_digit(&acc, &odd, tn[i]);
            started = true;
        }
        if i <= CHUNK {
            for (naf, row) in sn.iter().zip(gt) {
                if naf[i] != 0 {
                    acc = add_digit(&acc, row, naf[i]);
                    started = true;
                }
            }
        }
    }
    acc
}

/// k·P by plain double-and-add: the reference the table code is tested against.
#[cfg(test)]
pub(crate) fn mul_ref(k: &Scalar, p: &Affine) -> Jacobian {
    let mut acc = Jacobian::INFINITY;
    for limb in (0..4).rev() {
        for bit in (0..64).rev() {
            acc = acc.double();
            if (k.0[limb] >> bit) & 1 == 1 {
                acc = acc.add_affine_vartime(p);
            }
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same(a: &Jacobian, b: &Jacobian) -> bool {
        match (a.to_affine(), b.to_affine()) {
            (None, None) => true,
            (Some(x), Some(y)) => x.x.eq_vartime(&y.x) && x.y.eq_vartime(&y.y),
            _ => false,
        }
    }

    fn n_minus(k: u64) -> Scalar {
        Scalar::ZERO.sub(&Scalar([k, 0, 0, 0]))
    }

    #[test]
    fn generator_is_on_the_curve_and_has_order_n() {
        assert!(G.is_on_curve());
        let n_minus_1 = n_minus(1);
        // (n-1)·G = -G, so (n-1)·G + G = infinity.
        let p = mul_base(&n_minus_1);
        let q = p.to_affine().unwrap();
        assert!(q.x.eq_vartime(&G.x));
        assert!(q.y.eq_vartime(&G.y.neg()));
        assert!(p.add_affine_vartime(&G).to_affine().is_none());
        assert!(same(&mul_ref(&n_minus_1, &G), &p));
    }

    #[test]
    fn booth_digits_recompose_the_scalar() {
        for k in [
            Scalar::ONE,
            n_minus(1),
            n_minus(2),
            Scalar([u64::MAX, 0, u64::MAX, 0]),
        ] {
            let mut acc = num_bigint::BigInt::from(0);
            for i in (0..ROWS).rev() {
                let (abs, neg) = booth_digit(&k.0, i);
                assert!(abs <= 32);
                let d = if neg == 1 { -(abs as i64) } else { abs as i64 };
                acc = (acc << W) + d;
            }
            assert_eq!(
                acc,
                num_bigint::BigInt::from_bytes_be(num_bigint::Sign::Plus, &k.to_bytes())
            );
        }
    }

    #[test]
    fn small_and_edge_multiples() {
        for k in [1u64, 2, 3, 31, 32, 33, 63, 64, 65, 1 << 40] {
            let s = Scalar([k, 0, 0, 0]);
            assert!(same(&mul_base(&s), &mul_ref(&s, &G)), "k = {k}");
        }
        for k in [1u64, 2, 3, 32, 33] {
            let s = n_minus(k);
            assert!(same(&mul_base(&s), &mul_ref(&s, &G)), "k = n - {k}");
        }
        // Every digit at its extremes: k = 2^252 - 1 style values.
        let s = Scalar([u64::MAX, u64::MAX, u64::MAX, 0x0fff_ffff_ffff_ffff]);
        assert!(same(&mul_base(&s), &mul_ref(&s, &G)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn fixed_base_matches_double_and_add(b in any::<[u8; 32]>()) {
            let k = Scalar::from_bytes_reduced(&b);
            prop_assume!(!bool::from(k.is_zero()));
            prop_assert!(same(&mul_base(&k), &mul_ref(&k, &G)));
        }

        #[test]
        fn double_scalar_matches_reference(a in any::<[u8; 32]>(), b in any::<[u8; 32]>(), c in any::<[u8; 32]>()) {
            let d = Scalar::from_bytes_reduced(&c);
            prop_assume!(!bool::from(d.is_zero()));
            let p = mul_base(&d).to_affine().unwrap();
            let s = Scalar::from_bytes_reduced(&a);
            let t = Scalar::from_bytes_reduced(&b);
            let got = mul_double_vartime(&s, &t, &PointTable::new(&p));
            let want = mul_ref(&s, &G).add_vartime(&mul_ref(&t, &p));
            prop_assert!(same(&got, &want));
            prop_assert!(same(&mul_double_vartime_untabled(&s, &t, &p), &want));
        }
    }

    #[test]
    fn double_scalar_exceptional_cases() {
        // s·G + t·P with P = G and t = n - s gives infinity; with t = s gives 2s·G.
        let p = G;
        let pt = PointTable::new(&p);
        let s = Scalar([12345, 0, 0, 0]);
        assert!(mul_double_vartime(&s, &Scalar::ZERO.sub(&s), &pt)
            .to_affine()
            .is_none());
        let two_s = s.add(&s);
        assert!(same(&mul_double_vartime(&s, &s, &pt), &mul_base(&two_s)));
        assert!(mul_double_vartime_untabled(&s, &Scalar::ZERO.sub(&s), &p)
            .to_affine()
            .is_none());
        assert!(same(
            &mul_double_vartime_untabled(&s, &s, &p),
            &mul_base(&two_s)
        ));
        // Scalars with long runs of ones and the top bits set exercise the wNAF carries.
        let ones = n_minus(2);
        let want = mul_ref(&ones, &G).add_vartime(&mul_ref(&ones, &p));
        assert!(same(&mul_double_vartime_untabled(&ones, &ones, &p), &want));
        assert!(same(&mul_double_vartime(&ones, &ones, &pt), &want));
    }

    #[test]
    fn decoding_checks_the_curve() {
        let enc = G.to_uncompressed();
        assert!(Affine::from_uncompressed(&enc).is_some());
        let mut bad = enc;
        bad[64] ^= 1;
        assert!(Affine::from_uncompressed(&bad).is_none());
        let mut bad = enc;
        bad[0] = 0x02;
        assert!(Affine::from_uncompressed(&bad).is_none());
        // x = p is not a field element.
        let mut bad = enc;
        bad[1..33].copy_from_slice(&crate::limbs::to_be_bytes(&crate::field::P));
        assert!(Affine::from_uncompressed(&bad).is_none());
        // (0, 0): what some encoders write for infinity.
        let mut zero = [0u8; 65];
        zero[0] = 4;
        assert!(Affine::from_uncompressed(&zero).is_none());
    }
}

#[cfg(test)]
mod wnaf_tests {
    use super::*;
    use num_bigint::BigInt;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn wnaf_recomposes(b in any::<[u8; 32]>(), w in 2u32..9) {
            let k = Scalar::from_bytes_reduced(&b);
            let naf = wnaf_full(&k, w);
            let mut acc = BigInt::from(0);
            for d in naf.iter().rev() {
                acc = (acc << 1) + *d as i64;
            }
            prop_assert_eq!(acc, BigInt::from_bytes_be(num_bigint::Sign::Plus, &k.to_bytes()));
            for d in naf {
                prop_assert!(d == 0 || (d % 2 != 0 && d.unsigned_abs() < 1 << (w - 1)));
            }
        }
    }
}
