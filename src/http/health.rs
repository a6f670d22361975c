//! `/healthz` (the process answers) and `/readyz` (it can serve: database and photo store reachable),
//! for load balancers and orchestrators.

use crate::{db::Db, media::MediaStore};
use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use serde_json::json;

pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, Json(json!({ "status": "ok" })))
}

pub async fn readyz(State(db): State<Db>, State(media): State<MediaStore>) -> impl IntoResponse {
    let database = crate::db::on_db!(
        &db,
        read | pool
            | sqlx::query_scalar::<_, i32>("SELECT 1")
                .fetch_one(pool)
                .await
    )
    .is_ok();
    let media = media.is_writable().await;
    let status = if database && media {
        StatusCode::OK
    } else {
        tracing::warn!(database, media, "not ready");
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if status == StatusCode::OK { "ready" } else { "unavailable" },
            "database": if database { "ok" } else { "unreachable" },
            "media": if media { "ok" } else { "not writable" },
        })),
    )
}
