//! The REST API's shared plumbing, following Django REST Framework's conventions
//! so existing clients keep working: the `Authorization: Token` header, reading
//! JSON / form / multipart bodies, DRF-shaped errors, absolute URLs, and the API's
//! documentation (the OpenAPI document and a reference page) with its fallback.
//!
//! The endpoints live with their feature (`cars::rest`, `auth::rest`) and call the same
//! validation, queries and services as the pages; `routes` mounts them under `/api`.

use crate::{
    config::Config,
    error::{AppError, FieldErrors},
    http::{
        multipart::{read_submission, ReadError, Upload},
        security::DEFAULT_POLICY,
    },
};
use axum::body::Bytes;
use axum::{
    extract::{FromRequest, Multipart, OriginalUri, Request},
    http::{header, HeaderMap, Method, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
    Json, Router,
};
use serde_json::{json, Value};
use std::{net::SocketAddr, sync::Arc};
use utoipa::openapi::OpenApi;

/// Largest JSON or url-encoded body read, in bytes (a car is a few kB at most).
const MAX_TEXT_BODY: usize = 256 * 1024;

/// White space as `str::trim` removes it (Unicode White_Space), as the body of a regular
/// expression's character class: the API's text fields are trimmed before they are checked.
pub const TRIMMED: &str = r"\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// Control characters (Unicode Cc), as the body of a character class.
pub const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

/// A JSON Schema written as JSON, for what the derive attributes cannot say (several types,
/// bounds known at start-up, patterns built from constants). utoipa reads it into its own
/// types: keywords it does not model (`anyOf` inside an object, say) would be lost, so
/// reading it back must give the same JSON.
pub fn json_schema(value: Value) -> utoipa::openapi::schema::Schema {
    let schema: utoipa::openapi::schema::Schema =
        serde_json::from_value(value.clone()).expect("a JSON Schema utoipa can read");
    assert_eq!(
        serde_json::to_value(&schema).expect("a schema serialises"),
        value,
        "utoipa dropped or changed a keyword of this schema"
    );
    schema
}

/// `{"detail": "..."}`: how the API explains a refusal that is not about one field.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Documents the answer; `detail()` writes it.
pub struct Detail {
    detail: String,
}

/// A 400: `{"field": ["message"]}` per invalid field, `{"non_field_errors": [...]}`, or
/// `{"detail": "..."}` for a body that could not be read.
pub struct FieldErrorsBody;

impl utoipa::PartialSchema for FieldErrorsBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        json_schema(json!({
            "type": "object",
            "additionalProperties": { "type": ["array", "string"], "items": { "type": "string" } },
        }))
        .into()
    }
}

impl utoipa::ToSchema for FieldErrorsBody {}

/// Every way an API request can fail, answered in DRF's shapes.
#[derive(Debug)]
pub enum ApiError {
    App(AppError),
    /// 401 with `WWW-Authenticate: Token`, as DRF's TokenAuthentication answers.
    NotAuthenticated(String),
    UnsupportedMediaType(String),
    /// 413; the message says which file, when one was too large.
    TooLarge(Option<String>),
    MethodNotAllowed(Method),
    /// 400 with DRF's `non_field_errors` list.
    NonField(String),
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Unauthorized(message) => ApiError::NotAuthenticated(message),
            other => ApiError::App(other),
        }
    }
}

fn detail(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "detail": message.into() }))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::App(AppError::Validation(errors)) => {
                // DRF lists messages per field.
                let body: serde_json::Map<String, Value> = errors
                    .into_iter()
                    .map(|(field, message)| (field, json!([message])))
                    .collect();
                (StatusCode::BAD_REQUEST, Json(Value::Object(body))).into_response()
            }
            ApiError::App(error) => {
                let mut response = detail(
                    StatusCode::from_u16(error.status())
                        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    error.to_string(),
                );
                if let Some(seconds) = error.retry_after() {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, seconds.into());
                }
                response
            }
            ApiError::NotAuthenticated(message) => {
                let mut response = detail(StatusCode::UNAUTHORIZED, message);
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Token"),
                );
                response
            }
            ApiError::UnsupportedMediaType(content_type) => detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Unsupported media type \"{content_type}\" in request. Send application/json, \
                     application/x-www-form-urlencoded or multipart/form-data."
                ),
            ),
            ApiError::TooLarge(message) => detail(
                StatusCode::PAYLOAD_TOO_LARGE,
                message.unwrap_or_else(|| "The request body is too large.".into()),
            ),
            ApiError::MethodNotAllowed(method) => detail(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("Method \"{method}\" not allowed."),
            ),
            ApiError::NonField(message) => (
                StatusCode::BAD_REQUEST,
                Json(json!({ "non_field_errors": [message] })),
            )
                .into_response(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The key from `Authorization: Token <key>`; other schemes are left to other authentication.
pub fn token_from_headers(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::NotAuthenticated("Invalid token header.".into()))?;
    let mut parts = value.split_whitespace();
    match parts.next() {
        Some(scheme) if scheme.eq_ignore_ascii_case("token") => {}
        _ => return Ok(None),
    }
    match (parts.next(), parts.next()) {
        (Some(key), None) => Ok(Some(key.to_owned())),
        (None, _) => Err(ApiError::NotAuthenticated(
            "Invalid token header. No credentials provided.".into(),
        )),
        (Some(_), Some(_)) => Err(ApiError::NotAuthenticated(
            "Invalid token header. Token string should not contain spaces.".into(),
        )),
    }
}

/// One field's value as sent: JSON numbers become their text, as DRF's fields accept them.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Text(String),
    Null,
    /// A JSON list of strings (a form sends a list as the same name repeated).
    List(Vec<String>),
    /// A boolean, object, or list of other things, where a plain value was expected.
    Invalid,
}

/// A request body read as named fields, whatever its content type.
#[derive(Debug, Default)]
pub struct ApiForm {
    pub fields: Vec<(String, Scalar)>,
    /// The uploaded file of a multipart body (see [`FileField`]).
    pub file: Option<Upload>,
    /// Sent as JSON, which has lists of its own (a form repeats a list's name instead).
    pub json: bool,
}

/// The one file field a multipart body may carry, and its size cap.
#[derive(Clone, Copy, Debug)]
pub struct FileField {
    pub name: &'static str,
    pub max_bytes: usize,
}

impl ApiForm {
    /// The last value sent for `name`.
    pub fn get(&self, name: &str) -> Option<&Scalar> {
        self.fields
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// Every value sent for `name`, in order: a list field sent as a form repeats its name.
    pub fn all(&self, name: &str) -> Vec<&Scalar> {
        self.fields
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value)
            .collect()
    }

    /// A required text field, or the field error DRF would give.
    pub fn text(&self, name: &str, errors: &mut FieldErrors) -> Option<String> {
        match self.get(name) {
            Some(Scalar::Text(text)) if !text.trim().is_empty() => Some(text.clone()),
            Some(Scalar::Invalid) => {
                errors.insert(name.into(), "Not a valid string.".into());
                None
            }
            _ => {
                errors.insert(name.into(), "This field is required.".into());
                None
            }
        }
    }

    /// Reads the body by its content type: JSON, url-encoded form or multipart.
    /// An empty body with no content type is an empty form (DRF treats it so).
    pub async fn read(request: Request, file: Option<FileField>) -> ApiResult<Self> {
        let (content_type, essence) = media_type(request.headers());
        match essence.as_str() {
            "application/json" => {
                let bytes = body_bytes(request).await?;
                let value: Value = serde_json::from_slice(&bytes).map_err(|error| {
                    ApiError::App(AppError::BadRequest(format!("JSON parse error - {error}")))
                })?;
                Self::from_json(value)
            }
            "application/x-www-form-urlencoded" => {
                let bytes = body_bytes(request).await?;
                let fields = url::form_urlencoded::parse(&bytes)
                    .map(|(k, v)| (k.into_owned(), Scalar::Text(v.into_owned())))
                    .collect();
                Ok(ApiForm {
                    fields,
                    ..ApiForm::default()
                })
            }
            "multipart/form-data" => {
                let multipart = Multipart::from_request(request, &()).await.map_err(|_| {
                    ApiError::App(AppError::BadRequest(
                        "Multipart form parse error: the boundary is missing.".into(),
                    ))
                })?;
                let submission = read_submission(
                    multipart,
                    file.map(|file| file.name),
                    file.map_or(0, |file| file.max_bytes),
                )
                .await
                .map_err(|error| match error {
                    ReadError::TooLarge(file_name) => {
                        too_large_file(file_name, file.map_or(0, |file| file.max_bytes))
                    }
                    ReadError::Malformed => ApiError::App(AppError::BadRequest(
                        "Multipart form parse error: the body could not be read.".into(),
                    )),
                })?;
                Ok(ApiForm {
                    fields: submission
                        .fields
                        .into_iter()
                        .map(|(k, v)| (k, Scalar::Text(v)))
                        .collect(),
                    file: submission.file,
                    json: false,
                })
            }
            "" => {
                if body_bytes(request).await?.is_empty() {
                    Ok(ApiForm::default())
                } else {
                    Err(ApiError::UnsupportedMediaType(String::new()))
                }
            }
            _ => Err(ApiError::UnsupportedMediaType(content_type)),
        }
    }

    pub fn from_json(value: Value) -> ApiResult<Self> {
        let Value::Object(map) = value else {
            let kind = match value {
                Value::Array(_) => "list",
                Value::String(_) => "str",
                Value::Number(_) => "number",
                Value::Bool(_) => "bool",
                _ => "null",
            };
            return Err(ApiError::NonField(format!(
                "Invalid data. Expected a dictionary, but got {kind}."
            )));
        };
        let fields = map
            .into_iter()
            .map(|(key, value)| {
                let scalar = match value {
                    Value::String(text) => Scalar::Text(text),
                    Value::Number(number) => Scalar::Text(number_text(&number)),
                    Value::Null => Scalar::Null,
                    Value::Array(items) => items
                        .into_iter()
                        .map(|item| match item {
                            Value::String(text) => Some(text),
                            _ => None,
                        })
                        .collect::<Option<Vec<String>>>()
                        .map_or(Scalar::Invalid, Scalar::List),
                    Value::Bool(_) | Value::Object(_) => Scalar::Invalid,
                };
                (key, scalar)
            })
            .collect();
        Ok(ApiForm {
            fields,
            file: None,
            json: true,
        })
    }
}

/// A JSON number as text. A whole number written with a fraction (`2017.0`) is the integer
/// it stands for, as JSON Schema and DRF's IntegerField read it.
fn number_text(number: &serde_json::Number) -> String {
    match number.as_f64() {
        Some(value)
            if !number.is_i64()
                && !number.is_u64()
                && value.fract() == 0.0
                && value.abs() < 9e15 =>
        {
            format!("{value:.0}")
        }
        _ => number.to_string(),
    }
}

/// 413 for a file over `max_bytes`, naming it when it said its name.
pub fn too_large_file(file_name: Option<String>, max_bytes: usize) -> ApiError {
    let most = max_bytes / (1024 * 1024);
    ApiError::TooLarge(file_name.map(|name| {
        Upload::about(
            Some(&name),
            &format!("the file is larger than {most} MB, the most a photo may be."),
        )
    }))
}

/// A request's `Content-Type` as sent (for messages), and its media type in lower case
/// without parameters ("multipart/form-data" of "multipart/form-data; boundary=…").
pub fn media_type(headers: &HeaderMap) -> (String, String) {
    let sent = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let essence = sent
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    (sent, essence)
}

/// A JSON object body (415 for another content type, 400 for anything but an object).
pub async fn read_json(request: Request) -> ApiResult<serde_json::Map<String, Value>> {
    let (content_type, essence) = media_type(request.headers());
    if essence != "application/json" {
        return Err(ApiError::UnsupportedMediaType(content_type));
    }
    let bytes = body_bytes(request).await?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiForm::from_json(other)
            .err()
            .unwrap_or(ApiError::NonField(
                "Invalid data. Expected a dictionary.".into(),
            ))),
        Err(error) => Err(ApiError::App(AppError::BadRequest(format!(
            "JSON parse error - {error}"
        )))),
    }
}

async fn body_bytes(request: Request) -> ApiResult<axum::body::Bytes> {
    axum::body::to_bytes(request.into_body(), MAX_TEXT_BODY)
        .await
        .map_err(|_| ApiError::TooLarge(None))
}

/// `scheme://host` for absolute URLs: `PUBLIC_URL` when configured, else the request's Host.
/// (`site` is the server's own address, for a request without a usable Host.)
pub fn base_url(config: &Config, site: SocketAddr, headers: &HeaderMap) -> String {
    if let Some(url) = &config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| site.to_string());
    let scheme = if config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// A body refused by a size limit before any handler read it (tower-http answers in plain
/// text) gets the API's JSON answer, as every other refusal.
pub async fn json_refusals(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return ApiError::TooLarge(None).into_response();
    }
    response
}

/// Any method a route does not serve.
pub async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method)
}

/// The API's documentation and its fallback, for the document `doc` of the routes
/// mounted beside them: `/schema/` (the OpenAPI document), `/docs/` (a readable page
/// styled by `stylesheet_link`, the site's `<link>` tag), and for any other path a JSON 404, or a redirect
/// when only the trailing slash is missing (DRF's routes end in one).
pub fn docs<S: Clone + Send + Sync + 'static>(doc: OpenApi, stylesheet_link: &str) -> Router<S> {
    // Rendered once; each answer shares the bytes.
    let schema = Bytes::from(serde_json::to_vec(&doc).expect("an OpenAPI document serialises"));
    let page = Bytes::from(reference(&doc, stylesheet_link));
    let known: Arc<[String]> = doc
        .paths
        .paths
        .keys()
        .cloned()
        .chain(["/api/schema/".into(), "/api/docs/".into()])
        .collect();
    Router::new()
        .route(
            "/schema/",
            get(move || {
                let schema = schema.clone();
                async move {
                    (
                        [
                            (header::CACHE_CONTROL, "no-cache"),
                            (header::CONTENT_TYPE, "application/json"),
                        ],
                        schema,
                    )
                }
            })
            .fallback(method_not_allowed),
        )
        .route(
            "/docs/",
            get(move || {
                let page = page.clone();
                // A static page: the script-free policy, not the pages' nonce policy.
                async move {
                    (
                        [(header::CONTENT_SECURITY_POLICY, DEFAULT_POLICY)],
                        Html(page),
                    )
                }
            })
            .fallback(method_not_allowed),
        )
        .fallback(move |OriginalUri(uri): OriginalUri| {
            let response = fallback(&known, &uri);
            async move { response }
        })
}

/// Does `path` match the route `template` (`{name}` standing for one segment)?
fn matches_route(template: &str, path: &str) -> bool {
    let mut template = template.split('/');
    let mut path = path.split('/');
    loop {
        match (template.next(), path.next()) {
            (None, None) => return true,
            (Some(t), Some(p)) if t == p || (t.starts_with('{') && !p.is_empty()) => {}
            _ => return false,
        }
    }
}

/// A path without its trailing slash is redirected (308 keeps the method and body) when
/// with one it names a route; anything else under /api is a JSON 404.
fn fallback(known: &[String], uri: &axum::http::Uri) -> Response {
    let path = uri.path();
    let with_slash = format!("{path}/");
    if !path.ends_with('/') && known.iter().any(|route| matches_route(route, &with_slash)) {
        let target = match uri.query() {
            Some(query) => format!("{with_slash}?{query}"),
            None => with_slash,
        };
        return Redirect::permanent(&target).into_response();
    }
    detail(StatusCode::NOT_FOUND, "Not found.")
}

/// The `Authorization: Token <key>` scheme, for a document's `modifiers`.
pub struct TokenSecurity;

impl utoipa::Modify for TokenSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Token <key>`, with a key from POST /api/auth/token/.",
            ))),
        );
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes `text`, then shows its `backticked` parts as code (the doc comments use them).
fn prose(text: &str) -> String {
    escape(text)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_owned()
            }
        })
        .collect()
}

/// A readable reference page, rendered from the OpenAPI document (no scripts, no CDN).
fn reference(doc: &OpenApi, stylesheet_link: &str) -> String {
    use utoipa::openapi::{
        path::{Operation, ParameterIn},
        Required,
    };
    let mut index = String::new();
    let mut sections = String::new();
    let tags: Vec<(String, String)> = doc
        .tags
        .iter()
        .flatten()
        .map(|t| (t.name.clone(), t.description.clone().unwrap_or_default()))
        .collect();
    for (tag, tag_description) in &tags {
        sections.push_str(&format!(
            "<h2 class=\"api-tag\">{}</h2>",
            escape(tag_description)
        ));
        for (path, item) in &doc.paths.paths {
            let operations: [(&str, &Option<Operation>); 5] = [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ];
            for (method, operation) in operations {
                let Some(op) = operation else { continue };
                if !op.tags.iter().flatten().any(|t| t == tag) {
                    continue;
                }
                let summary = prose(op.summary.as_deref().unwrap_or_default());
                let anchor = format!(
                    "{}{}",
                    method.to_lowercase(),
                    path.replace(['/', '{', '}'], "-")
                );
                index.push_str(&format!(
                    "<li><a href=\"#{anchor}\"><code>{method} {}</code></a> {summary}</li>",
                    escape(path)
                ));
                sections.push_str(&format!(
                    "<section class=\"api-op\" id=\"{anchor}\" aria-labelledby=\"{anchor}-h\">\
                     <h3 id=\"{anchor}-h\"><span class=\"api-method\">{method}</span><code>{}</code></h3><p>{summary}</p>",
                    escape(path)
                ));
                if let Some(description) = &op.description {
                    sections.push_str(&format!("<p>{}</p>", prose(description)));
                }
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    sections.push_str(
                        "<p><strong>Needs a signed-in caller:</strong> <code>Authorization: Token &lt;key&gt;</code> or the browser session.</p>",
                    );
                }
                if let Some(params) = op.parameters.as_ref().filter(|p| !p.is_empty()) {
                    sections.push_str(
                        "<h4>Parameters</h4><table><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">In</th>\
                         <th scope=\"col\">Required</th><th scope=\"col\">Description</th></tr></thead><tbody>",
                    );
                    for p in params {
                        let place = match p.parameter_in {
                            ParameterIn::Path => "path",
                            ParameterIn::Query => "query",
                            ParameterIn::Header => "header",
                            ParameterIn::Cookie => "cookie",
                        };
                        let required = if matches!(p.required, Required::True) {
                            "yes"
                        } else {
                            "no"
                        };
                        sections.push_str(&format!(
                            "<tr><td><code>{}</code></td><td>{place}</td><td>{required}</td><td>{}</td></tr>",
                            escape(&p.name),
                            prose(p.description.as_deref().unwrap_or_default())
                        ));
                    }
                    sections.push_str("</tbody></table>");
                }
                if let Some(request_body) = &op.request_body {
                    let types: Vec<String> = request_body
                        .content
                        .keys()
                        .map(|t| format!("<code>{}</code>", escape(t)))
                        .collect();
                    sections.push_str(&format!(
                        "<h4>Request body</h4><p>{} Sent as {}.</p>",
                        prose(request_body.description.as_deref().unwrap_or_default()),
                        types.join(", ")
                    ));
                }
                sections.push_str("<h4>Responses</h4><ul>");
                for (status, response) in &op.responses.responses {
                    let text = match response {
                        utoipa::openapi::RefOr::T(r) => r.description.clone(),
                        utoipa::openapi::RefOr::Ref(r) => r.ref_location.clone(),
                    };
                    sections.push_str(&format!(
                        "<li><code>{}</code> {}</li>",
                        escape(status),
                        prose(&text)
                    ));
                }
                sections.push_str("</ul></section>");
            }
        }
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>API reference · AutoNexus</title>{stylesheet_link}</head>\
         <body><main class=\"container api-reference\"><p class=\"brand-line\"><a href=\"/\">← AutoNexus marketplace</a></p>\
         <h1>{}</h1><p>{}</p><p>Machine-readable: <a href=\"/api/schema/\">the OpenAPI 3.1 document</a>.</p>\
         <nav aria-label=\"Endpoints\"><ul>{index}</ul></nav>{sections}</main></body></html>",
        escape(&doc.info.title),
        prose(doc.info.description.as_deref().unwrap_or_default()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::security::test_headers as headers;

    #[test]
    fn token_header_follows_drf() {
        assert_eq!(
            token_from_headers(&headers(&[("authorization", "Token abc")])).unwrap(),
            Some("abc".into())
        );
        assert_eq!(
            token_from_headers(&headers(&[("authorization", "Bearer abc")])).unwrap(),
            None
        );
        assert!(token_from_headers(&headers(&[("authorization", "Token")])).is_err());
        assert!(token_from_headers(&headers(&[("authorization", "Token a b")])).is_err());
    }

    #[test]
    fn a_path_missing_only_its_slash_is_sent_to_the_route() {
        let known = ["/api/cars/".to_owned(), "/api/cars/{id}/status/".to_owned()];
        let answer = |uri: &str| fallback(&known, &uri.parse().unwrap());
        let redirected = answer("/api/cars/7/status?x=1");
        assert_eq!(redirected.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            redirected.headers()[header::LOCATION],
            "/api/cars/7/status/?x=1"
        );
        assert_eq!(answer("/api/cars").status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(answer("/api/cars//status").status(), StatusCode::NOT_FOUND);
        assert_eq!(answer("/api/trucks").status(), StatusCode::NOT_FOUND);
        assert_eq!(answer("/api/cars/").status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn whole_json_numbers_read_as_integers() {
        let form = ApiForm::from_json(json!({"year": 2017.0, "mileage": 12, "price": 1.5}));
        let form = form.unwrap();
        assert_eq!(form.get("year"), Some(&Scalar::Text("2017".into())));
        assert_eq!(form.get("mileage"), Some(&Scalar::Text("12".into())));
        assert_eq!(form.get("price"), Some(&Scalar::Text("1.5".into())));
    }

    #[test]
    fn a_schema_utoipa_cannot_hold_is_refused() {
        let plain = json!({"type": ["string", "null"], "pattern": "^a$", "maxLength": 3});
        assert_eq!(
            serde_json::to_value(json_schema(plain.clone())).unwrap(),
            plain
        );
        let lost = json!({"type": "object", "anyOf": [{"type": "string"}]});
        assert!(std::panic::catch_unwind(|| json_schema(lost)).is_err());
    }

    #[test]
    fn json_bodies_become_fields_and_non_objects_are_refused() {
        let form =
            ApiForm::from_json(json!({"year": 2017, "make": "Audi", "x": [1], "d": null})).unwrap();
        assert_eq!(form.get("year"), Some(&Scalar::Text("2017".into())));
        assert_eq!(form.get("x"), Some(&Scalar::Invalid));
        assert_eq!(form.get("d"), Some(&Scalar::Null));
        assert!(ApiForm::from_json(json!([1, 2])).is_err());
    }
}
