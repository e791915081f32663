//! Members and the directory import.

use crate::api::json;
use crate::http::{blocking, ApiCaller, ApiResult, JsonBody, QueryParams};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use plaudit_app::members::{MemberChanges, NewMember};
use plaudit_domain::member::Status;
use plaudit_domain::Error;
use plaudit_store::MemberFilter;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub status: String,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl ListQuery {
    pub fn filter(&self) -> Result<MemberFilter, Error> {
        let status = match self.status.as_str() {
            "" | "all" => None,
            s => Some(Status::parse("status", s)?),
        };
        Ok(MemberFilter {
            query: self.q.clone(),
            department: self.department.clone(),
            location: self.location.clone(),
            status,
        })
    }
}

pub async fn list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Value>> {
    let filter = q.filter()?;
    let page =
        blocking(&state.app, move |app| app.list_members(&caller, &filter, q.cursor.as_deref(), q.limit.unwrap_or(50)))
            .await?;
    Ok(Json(json::page(page.members.iter().map(json::member).collect(), page.next_cursor)))
}

pub async fn get_one(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let m = blocking(&state.app, move |app| app.member(&caller, &id)).await?;
    Ok(Json(json::member(&m)))
}

pub async fn create(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    JsonBody(new): JsonBody<NewMember>,
) -> ApiResult<impl IntoResponse> {
    let m = blocking(&state.app, move |app| app.create_member(&caller, new)).await?;
    Ok((StatusCode::CREATED, Json(json::member(&m))))
}

pub async fn patch(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    JsonBody(changes): JsonBody<MemberChanges>,
) -> ApiResult<Json<Value>> {
    let m = blocking(&state.app, move |app| {
        // A member of another organisation is simply not found.
        app.member(&caller, &id)?;
        app.update_member(&caller, &id, changes)
    })
    .await?;
    Ok(Json(json::member(&m)))
}

#[derive(Deserialize, Default)]
pub struct ImportQuery {
    #[serde(default)]
    pub dry_run: bool,
}

/// The largest CSV the API takes (a 100,000-member export is about 15 MB).
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// `POST /api/v1/members/import` with the CSV as the request body.
pub async fn import(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    QueryParams(q): QueryParams<ImportQuery>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let report = blocking(&state.app, move |app| {
        app.import_members(
            &caller.org.slug,
            Some(&caller.member.id),
            &plaudit_app::CsvBytes(&body),
            q.dry_run,
            &|_, _| {},
        )
    })
    .await?;
    Ok(Json(serde_json::to_value(report).unwrap_or_default()))
}
