//! Request-level defences that apply to every route: cross-site request refusal
//! (CSRF), security headers, and the health endpoints' neighbours in the stack.

use axum::{
    extract::Request,
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The Content-Security-Policy of a rendered page: scripts only from our origin and
/// with this response's nonce (Leptos puts it on its hydration and data scripts),
/// WebAssembly allowed to compile, photos from anywhere over http(s) (listings may
/// link an image URL) and from `blob:` (the sell form's previews of the seller's chosen
/// files, made by our script), no plugins, no framing, forms only to us.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src 'self' https: http: data: blob:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The policy of everything else (API, photos, the API reference): no scripts at all.
pub const DEFAULT_POLICY: &str = "default-src 'self'; script-src 'none'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// This response's CSP nonce, chosen before the page renders (request extension).
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// Gives every request a fresh nonce and sends the page policy with it on HTML
/// responses. Leptos is handed the same nonce (`provide_page_nonce`) for the scripts
/// it writes, so the header and the page always agree.
pub async fn content_security_policy(mut request: Request, next: Next) -> Response {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    let nonce = to_hex(&bytes);
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html
        && !response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY)
    {
        if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    response
}

/// Lowercase hex of `bytes` (nonces, token keys and their hashes), built in one
/// allocation: it runs on every request.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

/// Inside a page render: makes this request's nonce the one Leptos writes on its scripts.
pub fn provide_page_nonce() {
    use leptos::prelude::{provide_context, use_context};
    if let Some(nonce) = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned())
    {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
}

/// GET, HEAD and OPTIONS never change anything here, so they need no origin check.
pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// True when the request comes from our own pages, or from a client that is not a
/// browser. `Sec-Fetch-Site` when the browser sends it, else `Origin` against `Host`
/// (OWASP's CSRF advice). With neither header the client is not a current browser
/// acting for a third-party page, so there is no victim's cookie to ride.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match (text("origin"), text("host")) {
        (Some(origin), Some(host)) => url::Url::parse(origin).is_ok_and(|url| {
            let origin_host = match url.port() {
                Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
                None => url.host_str().unwrap_or_default().to_owned(),
            };
            origin_host.eq_ignore_ascii_case(host)
        }),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// `Authorization: Token …`: the browser never adds it by itself, so such a request
/// is not riding anyone's cookie (a wrong token is refused by the API with 401).
fn carries_token(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_whitespace().next())
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("token"))
}

/// A REST API call that authenticates *by* its token: under `/api/`, where a request
/// with `Authorization: Token …` is authenticated by that token alone and its cookies are
/// never read. Elsewhere (server functions, form posts) the header changes nothing about
/// who the request acts for, so it earns no exemption.
fn is_token_api_call(request: &Request) -> bool {
    request.uri().path().starts_with("/api/") && carries_token(request.headers())
}

/// Refuses state-changing requests sent by other sites (server functions, form
/// posts, cookie-authenticated API calls) with 403, before any handler runs.
pub async fn csrf_guard(request: Request, next: Next) -> Response {
    let headers = request.headers();
    if is_safe(request.method()) || is_token_api_call(&request) || same_origin(headers) {
        return next.run(request).await;
    }
    tracing::warn!(
        method = %request.method(),
        path = request.uri().path(),
        origin = ?headers.get("origin"),
        sec_fetch_site = ?headers.get("sec-fetch-site"),
        "cross-site request refused"
    );
    let message =
        "Cross-site request refused: this form or request did not come from AutoNexus pages. \
                   Go back to the page, reload it and try again.";
    if request.uri().path().starts_with("/api/") {
        (
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({ "detail": message })),
        )
            .into_response()
    } else {
        (
            StatusCode::FORBIDDEN,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            message,
        )
            .into_response()
    }
}

/// Where a server function's error waits for the page it redirects to (see `own_form_errors`).
const FORM_ERROR: &str = "form_error";
/// Errors longer than this are not kept (ours are a few sentences).
const MAX_FORM_ERROR: usize = 4 * 1024;

/// A server function posted by a plain HTML form (no JavaScript) answers with a redirect
/// back to the form, its error in the URL (`?__path=…&__err=…`), and the page shows it.
/// Anyone can write such a URL into a link, with any message on our page. So the error a
/// post produced is also kept in the visitor's session, and a page request carrying an
/// `__err` shows it only if it is that same error; otherwise the two parameters are taken
/// out of the request before the page renders. (Leptos shows the last `__err` of a URL:
/// a form posted again from a page that showed an error carries the old one too.)
/// Needs the session layer outside it.
pub async fn own_form_errors(mut request: Request, next: Next) -> Response {
    let Some(session) = request
        .extensions()
        .get::<tower_sessions::Session>()
        .cloned()
    else {
        return next.run(request).await;
    };
    if request.method() == Method::POST && request.uri().path().starts_with("/rpc/") {
        let response = next.run(request).await;
        let error = response
            .status()
            .is_redirection()
            .then(|| response.headers().get(header::LOCATION))
            .flatten()
            .and_then(|location| location.to_str().ok())
            .and_then(|location| {
                url::Url::options()
                    .base_url(Some(&url::Url::parse("http://localhost/").ok()?))
                    .parse(location)
                    .ok()
            })
            .and_then(|url| {
                url.query_pairs()
                    .filter(|(key, _)| key == "__err")
                    .last()
                    .map(|(_, value)| value.into_owned())
            });
        if let Some(error) = error.filter(|e| e.len() <= MAX_FORM_ERROR) {
            if let Err(failure) = session.insert(FORM_ERROR, error).await {
                tracing::error!(error = %failure, "could not keep a form error in the session");
            }
        }
        return response;
    }
    let shown = request.uri().query().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .filter(|(key, _)| key == "__err")
            .last()
            .map(|(_, value)| value.into_owned())
    });
    if let Some(shown) = shown {
        let posted: Option<String> = session.remove(FORM_ERROR).await.ok().flatten();
        if posted.as_deref() != Some(shown.as_str()) {
            strip_form_error(&mut request);
        }
    }
    next.run(request).await
}

/// Removes `__err` and `__path` from the request's query.
fn strip_form_error(request: &mut Request) {
    let query = request.uri().query().unwrap_or_default();
    let kept: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            url::form_urlencoded::parse(query.as_bytes())
                .filter(|(key, _)| key != "__err" && key != "__path"),
        )
        .finish();
    let path = request.uri().path();
    let path_and_query = if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{kept}")
    };
    let mut parts = request.uri().clone().into_parts();
    match path_and_query.parse() {
        Ok(path_and_query) => parts.path_and_query = Some(path_and_query),
        Err(_) => return,
    }
    if let Ok(uri) = axum::http::Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
}

/// A header map from name/value pairs (unit tests of header logic).
#[cfg(test)]
pub(crate) fn test_headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, value.parse().unwrap());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::{test_headers as headers, *};

    #[test]
    fn hex_has_two_lowercase_digits_per_byte() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xa5, 0xff, 0x10]), "000fa5ff10");
        assert_eq!(to_hex(&[]), "");
    }

    #[test]
    fn cross_site_requests_are_recognised() {
        assert!(same_origin(&headers(&[])));
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(same_origin(&headers(&[("sec-fetch-site", "none")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(&headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "null"),
            ("host", "127.0.0.1:3000")
        ])));
    }

    #[test]
    fn only_the_token_scheme_counts_as_a_token() {
        assert!(carries_token(&headers(&[("authorization", "Token abc")])));
        assert!(!carries_token(&headers(&[("authorization", "Basic abc")])));
        assert!(!carries_token(&headers(&[])));
    }

    #[test]
    fn a_form_error_is_taken_out_of_the_query_and_the_rest_kept() {
        let mut request = Request::new(axum::body::Body::empty());
        *request.uri_mut() = "/login?next=%2Fsell&__path=%2Frpc%2Fauth%2Flogin&__err=eyJ9"
            .parse()
            .unwrap();
        strip_form_error(&mut request);
        assert_eq!(request.uri(), "/login?next=%2Fsell");
        *request.uri_mut() = "/login?__err=x".parse().unwrap();
        strip_form_error(&mut request);
        assert_eq!(request.uri(), "/login");
    }

    #[test]
    fn a_token_exempts_only_api_calls_from_the_origin_check() {
        let request = |path: &str| {
            let mut request = Request::new(axum::body::Body::empty());
            *request.uri_mut() = path.parse().unwrap();
            request
                .headers_mut()
                .insert(header::AUTHORIZATION, "Token abc".parse().unwrap());
            request
        };
        assert!(is_token_api_call(&request("/api/cars/")));
        assert!(!is_token_api_call(&request("/rpc/cars/delete")));
        assert!(!is_token_api_call(&request("/sell")));
    }
}
