//! Reading a multipart form: its text fields, and one file streamed under a size cap.

use axum::{
    extract::{
        multipart::{Field, MultipartError},
        Multipart,
    },
    http::StatusCode,
};

/// What a multipart form sent: its text fields in order, and the file if one was chosen.
pub struct Submission {
    pub fields: Vec<(String, String)>,
    pub file: Option<Upload>,
}

/// An uploaded file: its bytes and the name it had on the sender's device, if it said one
/// (for messages such as "IMG_2231.HEIC: this file type is not supported").
#[derive(Debug)]
pub struct Upload {
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

impl Upload {
    /// `message` about this file: after its name when it has one ("IMG_2231.HEIC: this file
    /// type is not supported"), else as a sentence of its own.
    pub fn about(file_name: Option<&str>, message: &str) -> String {
        match file_name {
            Some(name) => format!("{name}: {message}"),
            None => {
                let mut chars = message.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => String::new(),
                }
            }
        }
    }
}

/// A file name as sent, made safe to show: its last path segment, no control characters,
/// at most 80 characters; `None` when nothing is left.
pub fn display_name(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = last.chars().filter(|c| !c.is_control()).take(80).collect();
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// Why a multipart body could not be read.
pub enum ReadError {
    /// The file (named, when it said its name) or the whole body is over the limit.
    TooLarge(Option<String>),
    Malformed,
}

fn read_error(error: MultipartError, file_name: Option<&str>) -> ReadError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ReadError::TooLarge(file_name.map(str::to_owned))
    } else {
        ReadError::Malformed
    }
}

/// Reads one file field, streaming, refused as soon as it is over `limit` bytes.
pub async fn read_file(field: &mut Field<'_>, limit: usize) -> Result<Upload, ReadError> {
    let file_name = field.file_name().and_then(display_name);
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| read_error(e, file_name.as_deref()))?
    {
        if bytes.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge(file_name));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Upload { file_name, bytes })
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
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| read_error(e, None))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if file_field == Some(name.as_str()) {
            let upload = read_file(&mut field, limit).await?;
            if !upload.bytes.is_empty() {
                file = Some(upload);
            }
        } else {
            let text = field.text().await.map_err(|e| read_error(e, None))?;
            fields.push((name, text));
        }
    }
    Ok(Submission { fields, file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_shown_safely_and_messages_read_well_either_way() {
        assert_eq!(
            display_name("IMG_2231.HEIC").as_deref(),
            Some("IMG_2231.HEIC")
        );
        assert_eq!(
            display_name("C:\\Users\\me\\car.png").as_deref(),
            Some("car.png")
        );
        assert_eq!(
            display_name("../../etc/pass\u{7}wd").as_deref(),
            Some("passwd")
        );
        assert_eq!(display_name(" \u{0} "), None);
        assert_eq!(display_name(&"x".repeat(300)).unwrap().len(), 80);
        assert_eq!(
            Upload::about(Some("a.heic"), "this file type is not supported"),
            "a.heic: this file type is not supported"
        );
        assert_eq!(
            Upload::about(None, "this file type is not supported"),
            "This file type is not supported"
        );
    }
}
