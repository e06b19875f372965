//! Image errors with stable codes: JavaScript sees `err.code`, so the codes never change.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The bytes claim a known format but cannot be decoded (truncated, damaged).
    Corrupt,
    /// Not an image format offload reads or writes.
    Unsupported,
    /// Over the pixel limit, judged from the header before any pixel buffer exists.
    TooLarge,
    /// The caller's AbortSignal fired.
    Aborted,
    /// Reading the input file or writing the output file failed: see [`ImageError::os`].
    Io,
    /// An option that passed the JS checks but is impossible for this image.
    InvalidOption,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageError {
    pub kind: ErrorKind,
    pub message: String,
    /// For `Io`: the OS error, from which JavaScript builds the same error `fs` gives.
    pub os: Option<OsError>,
}

/// A failed file operation as `fs` reports it: the raw errno (named and described on
/// the JS side with Node's own table), the syscall, and the path when `fs` names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsError {
    pub errno: i32,
    pub syscall: &'static str,
    pub path: Option<String>,
}

impl ImageError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ImageError {
            kind,
            message: message.into(),
            os: None,
        }
    }

    pub fn corrupt(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupt, message)
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge, message)
    }

    pub fn aborted() -> Self {
        Self::new(ErrorKind::Aborted, "The operation was aborted")
    }

    /// A failed `syscall` on a file; `path` as `fs` would name it (`open` does, `read`
    /// and `write` do not). An error without an errno (a short write) counts as EIO
    /// (`crate::errno`).
    pub fn io(e: &std::io::Error, syscall: &'static str, path: Option<&std::path::Path>) -> Self {
        let path = path.map(|p| p.to_string_lossy().into_owned());
        let message = match &path {
            Some(p) => format!("{e}, {syscall} '{p}'"),
            None => format!("{e}, {syscall}"),
        };
        ImageError {
            kind: ErrorKind::Io,
            message,
            os: Some(OsError {
                errno: crate::errno::os_errno(e),
                syscall,
                path,
            }),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidOption, message)
    }

    /// The `code` JavaScript sees.
    pub fn code(&self) -> &'static str {
        match self.kind {
            ErrorKind::Corrupt => "ERR_OFFLOAD_IMAGE_CORRUPT",
            ErrorKind::Unsupported => "ERR_OFFLOAD_IMAGE_UNSUPPORTED",
            ErrorKind::TooLarge => "ERR_OFFLOAD_IMAGE_TOO_LARGE",
            ErrorKind::Aborted => "ERR_OFFLOAD_ABORTED",
            // Never seen: JavaScript names the errno of `os` instead (ENOENT, ...).
            ErrorKind::Io => "ERR_SYSTEM_ERROR",
            ErrorKind::InvalidOption => "ERR_INVALID_ARG_VALUE",
        }
    }
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code())
    }
}

impl std::error::Error for ImageError {}

/// Maps the `image` crate's errors onto our codes: a decoder's complaint about the bytes
/// is corruption, a missing codec or feature is unsupported, a limit is too large.
impl From<image::ImageError> for ImageError {
    fn from(e: image::ImageError) -> Self {
        use image::ImageError as E;
        match e {
            E::Decoding(d) => ImageError::corrupt(format!("cannot decode the image: {d}")),
            E::Unsupported(u) => ImageError::unsupported(u.to_string()),
            E::Limits(l) => ImageError::too_large(l.to_string()),
            E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                ImageError::corrupt("the image data ends early (truncated file)")
            }
            E::IoError(io) => ImageError::corrupt(format!("cannot decode the image: {io}")),
            E::Encoding(x) => ImageError::unsupported(format!("cannot encode the image: {x}")),
            E::Parameter(p) => ImageError::invalid(p.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, ImageError>;
