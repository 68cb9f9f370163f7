//! Checking every seal of a PDF: `elicense-pdf`'s report of signatures and revisions, then
//! per signature the seal, the chains and the caller's status (see the module above).

use elicense_pdf::{Report, SignatureReport};
use time::{OffsetDateTime, UtcOffset};

use super::{embed, DocError, DocVerdict, SealStatus, SealVerdict, Trust, SES_SUB_FILTER};
use crate::ca::{revocation, validate_chain, Revocation};
use crate::cert::Cert;
use crate::ses::{verify_signature, Problem, Seal, SealSignature};
use crate::SigAlg;

/// Reads `pdf` and checks every signature in it at time `now`; `status` gives a seal's
/// status by its id. `Err` only when the file is not a readable PDF.
pub fn verify_pdf(
    pdf: &[u8],
    trust: &Trust,
    now: OffsetDateTime,
    status: &dyn Fn(&str) -> Option<SealStatus>,
) -> Result<DocVerdict, DocError> {
    Ok(inspect(pdf, now)?.judge(trust, status))
}

/// A PDF read and each signature checked on its own (the signature over its bytes, the seal
/// it carries), before trust anchors and statuses are applied: [`verify_pdf`] in two steps,
/// for a caller that picks its anchors and revocation lists by the certificates found.
pub struct Inspection {
    report: Report,
    /// Per signature of `report`: what it carries, and the problems found so far.
    found: Vec<(Found, Vec<String>)>,
    now: OffsetDateTime,
}

/// Reads `pdf` and checks each signature and seal at `now` (see [`Inspection`]). `Err` only
/// when the file is not a readable PDF.
pub fn inspect(pdf: &[u8], now: OffsetDateTime) -> Result<Inspection, DocError> {
    let report = elicense_pdf::verify(pdf)?;
    let found = report.signatures.iter().map(|s| found_in(s, now)).collect();
    Ok(Inspection { report, found, now })
}

impl Inspection {
    /// Each signature's signer certificate (DER), in the document's order.
    pub fn signer_certificates(&self) -> Vec<Option<&[u8]>> {
        self.found
            .iter()
            .map(|(f, _)| f.signer_cert.as_deref())
            .collect()
    }

    /// Every certificate the signatures carry: signers', seal makers' and intermediates (DER).
    pub fn certificates(&self) -> Vec<&[u8]> {
        let mut all = Vec::new();
        for (f, _) in &self.found {
            all.extend(f.signer_cert.as_deref());
            all.extend(f.seal.as_ref().map(Seal::maker_cert));
            all.extend(f.intermediates.iter().map(Vec::as_slice));
        }
        all
    }

    /// The verdict with the caller's anchors and CRLs, `status` giving a seal's status by its
    /// id (as [`verify_pdf`]).
    pub fn judge(&self, trust: &Trust, status: &dyn Fn(&str) -> Option<SealStatus>) -> DocVerdict {
        let report = &self.report;
        let signatures: Vec<SealVerdict> = report
            .signatures
            .iter()
            .zip(&self.found)
            .map(|(s, (found, problems))| {
                check(s, report, found, problems.clone(), trust, self.now, status)
            })
            .collect();
        verdict(report, signatures)
    }
}

fn verdict(report: &Report, signatures: Vec<SealVerdict>) -> DocVerdict {
    // The last signature is the one signing the latest revision.
    let last = report
        .signatures
        .iter()
        .max_by_key(|s| s.revision.unwrap_or(0));
    let mut changes_after_last = Vec::new();
    if let Some(last) = last {
        for &r in &last.later_revisions {
            for c in report.revisions.get(r).map_or(&[][..], |r| &r.changes[..]) {
                if c.code() != "pdf.update.signature_added" {
                    push_unique(&mut changes_after_last, c.code());
                }
            }
        }
        if !last.covers_whole_file && changes_after_last.is_empty() {
            changes_after_last.push("pdf.trailing_bytes".to_string());
        }
    }
    let modified_after_last = !changes_after_last.is_empty();
    let valid =
        !signatures.is_empty() && signatures.iter().all(|s| s.valid) && !modified_after_last;
    DocVerdict {
        signatures,
        modified_after_last,
        changes_after_last,
        valid,
    }
}

fn push_unique(v: &mut Vec<String>, code: &str) {
    if !v.iter().any(|c| c == code) {
        v.push(code.to_string());
    }
}

/// What one signature says about its seal, before the common checks.
struct Found {
    seal: Option<Seal>,
    signer_cert: Option<Vec<u8>>,
    intermediates: Vec<Vec<u8>>,
    alg: Option<SigAlg>,
    signed_at: Option<OffsetDateTime>,
    signature_ok: bool,
    seal_ok: bool,
}

/// The checks of one signature that need no trust decision: the PDF's own findings
/// (/ByteRange, the CMS for PAdES, later modifications), the signature and the seal.
fn found_in(s: &SignatureReport, now: OffsetDateTime) -> (Found, Vec<String>) {
    let mut problems: Vec<String> = Vec::new();
    let mut pdf_signature_ok = true;
    for p in &s.problems {
        let code = p.code();
        if code != "pdf.modified_after_signing" {
            pdf_signature_ok = false;
        }
        push_unique(&mut problems, code);
    }
    let mut found = if s.sub_filter == SES_SUB_FILTER {
        ses_record(s, now, &mut problems)
    } else {
        pades(s, &mut problems)
    };
    found.signature_ok &= pdf_signature_ok;
    (found, problems)
}

fn check(
    s: &SignatureReport,
    report: &Report,
    found: &Found,
    mut problems: Vec<String>,
    trust: &Trust,
    now: OffsetDateTime,
    status: &dyn Fn(&str) -> Option<SealStatus>,
) -> SealVerdict {
    let signature_ok = found.signature_ok;

    // Chains of the signer's and the maker's certificates, judged now.
    let mut chain_ok = true;
    let mut chain = |cert: &[u8], prefix: &str, problems: &mut Vec<String>| {
        if let Err(e) = validate_chain(cert, &found.intermediates, &trust.anchors, now, &trust.crls)
        {
            chain_ok = false;
            push_unique(problems, &format!("{prefix}{}", e.code()));
        }
    };
    match &found.signer_cert {
        Some(c) => chain(c, "", &mut problems),
        None => chain(&[], "", &mut problems),
    }
    if let Some(seal) = &found.seal {
        chain(seal.maker_cert(), "maker.", &mut problems);
    }

    // The registry's word now; for a seal the caller does not file, its certificate's
    // issuer's current revocation list, when the caller has one.
    let seal_id = found.seal.as_ref().map(|s| s.info().seal_id.clone());
    let filed = seal_id.as_deref().and_then(status);
    let status_now = match filed {
        Some(SealStatus::Unknown) | None => found
            .signer_cert
            .as_deref()
            .and_then(|c| crl_status(c, &found.intermediates, trust, now))
            .or(filed),
        known => known,
    };
    match status_now {
        Some(SealStatus::Revoked { .. }) => push_unique(&mut problems, "seal.revoked"),
        Some(SealStatus::Suspended { since }) => {
            let used_after = match (since, found.signed_at) {
                (Some(since), Some(at)) => at >= since,
                _ => true,
            };
            if used_after {
                push_unique(&mut problems, "seal.not_active_when_used");
            }
        }
        _ => {}
    }

    let later_changes = {
        let mut v = Vec::new();
        for &r in &s.later_revisions {
            for c in report.revisions.get(r).map_or(&[][..], |r| &r.changes[..]) {
                push_unique(&mut v, c.code());
            }
        }
        v
    };
    let owner = found
        .signer_cert
        .as_deref()
        .and_then(Cert::parse)
        .map(|c| c.cert.tbs_certificate.subject.to_string());
    let info = found.seal.as_ref().map(Seal::info);
    SealVerdict {
        field: s.field.clone(),
        page: s.page,
        seal_id,
        seal_name: info.map(|i| i.name.clone()),
        kind: info.map(|i| i.kind),
        owner,
        alg: found.alg,
        signed_at: found.signed_at,
        covers_whole_document: s.covers_whole_file,
        later_changes,
        signature_ok,
        seal_ok: found.seal_ok,
        chain_ok,
        status_now,
        valid: problems.is_empty(),
        problems,
    }
}

/// A seal's status by its signer certificate's entry in a current CRL of its issuer (an
/// anchor or a carried intermediate): on hold is suspended, listed otherwise is revoked.
fn crl_status(
    cert: &[u8],
    intermediates: &[Vec<u8>],
    trust: &Trust,
    now: OffsetDateTime,
) -> Option<SealStatus> {
    let issuers: Vec<Vec<u8>> = trust.anchors.iter().chain(intermediates).cloned().collect();
    Some(match revocation(cert, &issuers, &trust.crls, now)? {
        Revocation::Good => SealStatus::Active,
        Revocation::Listed { since, hold: true } => SealStatus::Suspended { since: Some(since) },
        Revocation::Listed { since, hold: false } => SealStatus::Revoked { since: Some(since) },
    })
}

/// A `SES_Signature` in /Contents: every check of [`verify_signature`] against the digest of
/// the signed bytes for the record's algorithm, and the byte range it claims to cover.
fn ses_record(s: &SignatureReport, now: OffsetDateTime, problems: &mut Vec<String>) -> Found {
    let mut found = Found {
        seal: None,
        signer_cert: None,
        intermediates: Vec::new(),
        alg: None,
        signed_at: None,
        signature_ok: false,
        seal_ok: false,
    };
    let record = match SealSignature::from_der(&s.contents) {
        Ok(r) => r,
        Err(e) => {
            push_unique(problems, e.code());
            return found;
        }
    };
    let Some(digests) = s.digests else {
        // /ByteRange unusable: already a `pdf.byte_range_*` problem.
        return found;
    };
    let expected = match record.alg() {
        SigAlg::Sm2WithSm3 => digests.sm3,
        SigAlg::EcdsaWithSha256 => digests.sha256,
    };
    let verdict = match verify_signature(&s.contents, &expected, now) {
        Ok(v) => v,
        Err(e) => {
            push_unique(problems, e.code());
            return found;
        }
    };
    let mut signature_ok = true;
    let mut seal_ok = true;
    for p in &verdict.problems {
        match p {
            Problem::SignerNotInSeal
            | Problem::MakerSignatureInvalid
            | Problem::MakerCertNotValid
            | Problem::SealNotValid => seal_ok = false,
            _ => signature_ok = false,
        }
        push_unique(problems, p.code());
    }
    // The record must say it covers exactly this /ByteRange.
    let range: Vec<String> = s.byte_range.iter().map(i64::to_string).collect();
    let claimed = format!("PDF ByteRange [{}] SM3", range.join(" "));
    if record.alg() == SigAlg::Sm2WithSm3 && record.property_info() != claimed {
        signature_ok = false;
        push_unique(problems, "seal.property_info_mismatch");
    }
    found.signer_cert = Some(record.signer_cert().to_vec());
    found.alg = Some(record.alg());
    found.signed_at = Some(record.signing_time());
    found.seal = Some(record.seal().clone());
    found.signature_ok = signature_ok;
    found.seal_ok = seal_ok;
    found
}

/// A PAdES CMS (already checked by `elicense-pdf`): the seal carried in it, checked as a
/// `SES_Signature`'s seal would be, at the claimed signing time /M.
fn pades(s: &SignatureReport, problems: &mut Vec<String>) -> Found {
    let carried = embed::carried(&s.contents);
    let signed_at = s.signing_time.as_deref().and_then(pdf_date);
    let mut found = Found {
        seal: None,
        signer_cert: s.signer_certificate.clone(),
        intermediates: carried
            .as_ref()
            .map(|c| c.certificates.clone())
            .unwrap_or_default(),
        alg: s
            .signer_certificate
            .as_ref()
            .map(|_| SigAlg::EcdsaWithSha256),
        signed_at,
        signature_ok: true,
        seal_ok: false,
    };
    let Some(seal_der) = carried.and_then(|c| c.seal) else {
        push_unique(problems, "seal.missing");
        return found;
    };
    let seal = match Seal::from_der(&seal_der) {
        Ok(seal) => seal,
        Err(e) => {
            push_unique(problems, e.code());
            return found;
        }
    };
    let mut seal_problems = Vec::new();
    if !s
        .signer_certificate
        .as_deref()
        .is_some_and(|c| seal.info().signers.lists(c))
    {
        seal_problems.push(Problem::SignerNotInSeal);
    }
    if !seal.maker_signature_verifies() {
        seal_problems.push(Problem::MakerSignatureInvalid);
    }
    match signed_at {
        Some(t) => {
            if !seal.maker_cert_valid_at(t) {
                seal_problems.push(Problem::MakerCertNotValid);
            }
            if !seal.valid_at(t) {
                seal_problems.push(Problem::SealNotValid);
            }
        }
        None => push_unique(problems, "pdf.signing_time_missing"),
    }
    for p in &seal_problems {
        push_unique(problems, p.code());
    }
    found.seal_ok = seal_problems.is_empty() && signed_at.is_some();
    found.seal = Some(seal);
    found
}

/// A PDF date `D:YYYYMMDDHHmmSS` followed by `Z`, `+HH'mm'` or `-HH'mm'` (or nothing: UTC).
fn pdf_date(s: &str) -> Option<OffsetDateTime> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = s.get(r)?;
        t.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(digits(4..6)?).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(year, month, u8::try_from(digits(6..8)?).ok()?).ok()?;
    let (h, m, sec) = (digits(8..10)?, digits(10..12)?, digits(12..14)?);
    let time = time::Time::from_hms(h as u8, m as u8, sec as u8).ok()?;
    let zone = s.get(14..).unwrap_or("");
    let offset = match zone.as_bytes().first() {
        None | Some(b'Z') => UtcOffset::UTC,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = zone.get(1..3)?.parse::<i8>().ok()?;
            let om = zone
                .get(4..6)
                .and_then(|m| m.parse::<i8>().ok())
                .unwrap_or(0);
            let k = if sign == b'-' { -1 } else { 1 };
            UtcOffset::from_hms(k * oh, k * om, 0).ok()?
        }
        _ => return None,
    };
    Some(date.with_time(time).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::pdf_date;
    use time::macros::datetime;

    #[test]
    fn pdf_dates() {
        assert_eq!(
            pdf_date("D:20250301093000+08'00'"),
            Some(datetime!(2025-03-01 09:30:00 +08:00))
        );
        assert_eq!(
            pdf_date("D:20250301013000Z"),
            Some(datetime!(2025-03-01 01:30:00 UTC))
        );
        assert_eq!(
            pdf_date("D:20250301013000-05'30'"),
            Some(datetime!(2025-03-01 01:30:00 -05:30))
        );
        assert_eq!(pdf_date("D:2025030101"), None);
        assert_eq!(pdf_date("D:20251301013000Z"), None);
        assert_eq!(pdf_date("D:2025030101300é"), None);
    }
}
