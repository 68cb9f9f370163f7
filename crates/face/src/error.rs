//! Errors of face rendering.
//!
//! Invariant: every variant has a stable machine code (`face.*`, see [`FaceError::code`])
//! that the API, the CLI and the logs show; messages name the template or the stage.

/// Why a face could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FaceError {
    /// A template is not well-formed XML, is not an SVG with a `viewBox`, has a malformed
    /// `{{placeholder}}`, a `data-wrap`/`data-slot` element with bad attributes, or its
    /// reference is not a safe relative path (`faces/x.svg`).
    #[error("face template {template}: {reason}")]
    TemplateInvalid {
        /// The template reference, e.g. `faces/business_license.svg`.
        template: String,
        /// What is wrong, with the line and column when known.
        reason: String,
    },
    /// A template file exists in the template directory but cannot be read.
    #[error("face template {template} cannot be read: {source}")]
    TemplateUnreadable {
        /// The template reference.
        template: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The QR code content does not fit in the largest QR code (version 40, at its level).
    #[error("QR code content of {len} bytes is too long")]
    QrTooLong {
        /// Length of the content in bytes.
        len: usize,
    },
    /// The PNG scale is not a finite positive number, or the picture would be larger than
    /// [`crate::MAX_PNG_SIDE`] pixels on a side.
    #[error("PNG scale {scale} is out of range")]
    InvalidScale {
        /// The scale asked for.
        scale: f32,
    },
    /// The filled SVG could not be parsed, rasterised or converted to PDF (a bug or a
    /// template that uses something the renderer does not support).
    #[error("face rendering failed at {stage}: {reason}")]
    RenderFailed {
        /// `svg`, `png` or `pdf`.
        stage: &'static str,
        /// The renderer's message.
        reason: String,
    },
}

impl FaceError {
    /// Stable machine code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            FaceError::TemplateInvalid { .. } => "face.template_invalid",
            FaceError::TemplateUnreadable { .. } => "face.template_unreadable",
            FaceError::QrTooLong { .. } => "face.qr_too_long",
            FaceError::InvalidScale { .. } => "face.invalid_scale",
            FaceError::RenderFailed { .. } => "face.render_failed",
        }
    }

    pub(crate) fn template(template: &str, reason: impl Into<String>) -> FaceError {
        FaceError::TemplateInvalid {
            template: template.to_owned(),
            reason: reason.into(),
        }
    }
}
