//! Reading a multipart form: its text fields, and one file streamed under a size cap.

use axum::{
    extract::{multipart::MultipartError, Multipart},
    http::StatusCode,
};

/// What a multipart form sent: its text fields in order, and the file's bytes if one was chosen.
pub struct Submission {
    pub fields: Vec<(String, String)>,
    pub file: Option<Vec<u8>>,
}

/// Why a multipart body could not be read.
pub enum ReadError {
    /// The file (or the whole body) is over the limit.
    TooLarge,
    Malformed,
}

fn read_error(error: MultipartError) -> ReadError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ReadError::TooLarge
    } else {
        ReadError::Malformed
    }
}

/// Reads a multipart body whose one file field (if any) is `file_field`. The file's cap holds
/// while streaming (chunk by chunk), not after buffering the whole upload.
pub async fn read_submission(
    mut multipart: Multipart,
    file_field: Option<&str>,
    limit: usize,
) -> Result<Submission, ReadError> {
    let mut fields = Vec::new();
    let mut file = None;
    while let Some(mut field) = multipart.next_field().await.map_err(read_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        if file_field == Some(name.as_str()) {
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(read_error)? {
                if bytes.len() + chunk.len() > limit {
                    return Err(ReadError::TooLarge);
                }
                bytes.extend_from_slice(&chunk);
            }
            if !bytes.is_empty() {
                file = Some(bytes);
            }
        } else {
            fields.push((name, field.text().await.map_err(read_error)?));
        }
    }
    Ok(Submission { fields, file })
}
