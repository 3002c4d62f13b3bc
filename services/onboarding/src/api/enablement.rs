//! The enablement library, courses, attempts and certifications.

use futures::future::BoxFuture;
use prm_proto::events as ev;
use prm_proto::onboarding::*;
use prm_runtime::fields::{
    CertificationValidDays, CourseDescription, PassMarkPercent, ScorePercent, Title,
};
use prm_runtime::wire::{opt_id, timestamp};
use prm_runtime::{
    ApiError, CallContext, FieldErrors, Idempotency, OnConstraint, Page, Principal, Role,
    begin_or_replay, validate,
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Onboarding, convert, ensure_may_act, ensure_not_terminated};
use crate::domain::enablement::{self, ContentKind, Viewer, Visibility};
use crate::domain::identity::UserStatusRules;
use crate::domain::identity::may_manage_user;
use crate::operations;
use crate::store::{self, NewCourse};

/// Staff who curate the library and courses.
const CURATORS: &[Role] = &[Role::Admin, Role::PartnerManager, Role::Marketing];

fn visibility(
    field_errs: &mut FieldErrors,
    v: Option<&prm_proto::onboarding::Visibility>,
) -> Visibility {
    let (rank, types) = v
        .map(|v| (v.min_tier_rank, v.partner_types.as_slice()))
        .unwrap_or((0, &[]));
    match Visibility::parse(rank, types) {
        Ok(v) => v,
        Err((field, e)) => {
            field_errs.add(field, e);
            Visibility::default()
        }
    }
}

/// Rows one list call reads at most while looking for visible ones.
const MAX_SCANNED: i64 = 2_000;

/// One page of the rows `viewer` sees (`None`: staff, who see all). The
/// store lists rows in id order; the domain decides what is visible, so
/// this reads batches until the page is full or the rows run out. It reads
/// at most [`MAX_SCANNED`] rows per call: past that, the page is short
/// (perhaps empty) and its `next_page_token` continues where reading
/// stopped, so a viewer who sees little of a large library cannot make one
/// call expensive.
async fn visible_page<R>(
    conn: &mut PgConnection,
    page: &Page,
    viewer: Option<Viewer>,
    fetch: impl for<'a> Fn(&'a mut PgConnection, Uuid, i64) -> BoxFuture<'a, sqlx::Result<Vec<R>>>,
    visibility: impl Fn(&R) -> Visibility,
    id: impl Fn(&R) -> Uuid,
) -> Result<(Vec<R>, String), ApiError> {
    let wanted = page.fetch_limit();
    // Staff see every row: one read of exactly the page. Partners: larger
    // batches, since some rows will be left out.
    let batch = if viewer.is_none() {
        wanted
    } else {
        wanted.max(i64::from(prm_runtime::paging::MAX_PAGE_SIZE))
    };
    let mut kept = Vec::new();
    let mut after = page.after_or_nil();
    let mut scanned = 0;
    loop {
        let rows = fetch(&mut *conn, after, batch).await?;
        let exhausted = (rows.len() as i64) < batch;
        for row in rows {
            scanned += 1;
            after = id(&row);
            if enablement::visible_to(viewer, &visibility(&row)) {
                kept.push(row);
                if kept.len() as i64 == wanted {
                    break;
                }
            }
        }
        if kept.len() as i64 == wanted || exhausted {
            let next_page_token = page.finish(&mut kept, id);
            return Ok((kept, next_page_token));
        }
        if scanned >= MAX_SCANNED {
            return Ok((kept, page.token_after(after)));
        }
    }
}

impl Onboarding {
    /// Whose view of the library a list shows: a partner's (tier rank and
    /// type), or everything for staff without a partner filter.
    async fn viewer(
        &self,
        principal: &Principal,
        requested: &str,
    ) -> Result<Option<Viewer>, ApiError> {
        let requested =
            validate::optional_uuid(requested).map_err(|e| ApiError::invalid("partner_id", e))?;
        let Some(partner_id) = principal.partner_scope(requested)? else {
            return Ok(None);
        };
        let partner = self.visible_partner(principal, partner_id).await?;
        Ok(Some(Viewer {
            tier_rank: partner.tier_rank,
            partner_type: partner.partner_type,
        }))
    }

    pub(super) async fn create_content(
        &self,
        ctx: CallContext,
        req: CreateContentRequest,
    ) -> Result<CreateContentResponse, ApiError> {
        ctx.principal()?.require_any_role(CURATORS)?;
        let mut errs = FieldErrors::new();
        let title = errs.check("title", Title::check(&req.title));
        let kind = errs.check("kind", ContentKind::from_proto(req.kind));
        let url = errs.check("url", validate::url(&req.url));
        let vis = visibility(&mut errs, req.visibility.as_ref());
        let (title, kind, url) = errs.finish_with(|| Some((title?, kind?, url?)))?;
        let idem = Idempotency::new(&ctx, "CreateContent", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = store::insert_content(&mut tx, &title, kind, &url, &vis).await?;
        let resp = CreateContentResponse {
            content: Some(convert::content(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn list_content(
        &self,
        ctx: CallContext,
        req: ListContentRequest,
    ) -> Result<ListContentResponse, ApiError> {
        let principal = ctx.principal()?;
        let viewer = self.viewer(principal, &req.partner_id).await?;
        let page = Page::parse(req.page_size, &req.page_token, &[&viewer_filter(viewer)])?;
        let mut conn = self.db.acquire().await?;
        let (rows, next_page_token) = visible_page(
            &mut conn,
            &page,
            viewer,
            |c, after, limit| Box::pin(store::list_content(c, after, limit)),
            store::ContentRow::visibility,
            |r| r.id,
        )
        .await?;
        Ok(ListContentResponse {
            content: rows.iter().map(convert::content).collect(),
            next_page_token,
        })
    }

    pub(super) async fn create_course(
        &self,
        ctx: CallContext,
        req: CreateCourseRequest,
    ) -> Result<CreateCourseResponse, ApiError> {
        ctx.principal()?.require_any_role(CURATORS)?;
        let mut errs = FieldErrors::new();
        let title = errs.check("title", Title::check(&req.title));
        let description = errs.check("description", CourseDescription::check(&req.description));
        let pass_mark = errs.check(
            "pass_mark_percent",
            PassMarkPercent::check(req.pass_mark_percent),
        );
        let valid_days = errs.check(
            "certification_valid_days",
            CertificationValidDays::check(req.certification_valid_days),
        );
        let vis = visibility(&mut errs, req.visibility.as_ref());
        let (title, description, pass_mark, valid_days) =
            errs.finish_with(|| Some((title?, description?, pass_mark?, valid_days?)))?;
        let idem = Idempotency::new(&ctx, "CreateCourse", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let row = store::insert_course(
            &mut tx,
            NewCourse {
                title: &title,
                description: &description,
                pass_mark_percent: pass_mark,
                certification_valid_days: valid_days,
                required_for_onboarding: req.required_for_onboarding,
                visibility: &vis,
            },
        )
        .await
        .on_constraint("courses_title_key", || {
            ApiError::already_exists(
                "COURSE_TITLE_TAKEN",
                format!("a course titled {title:?} exists"),
            )
        })?;
        let resp = CreateCourseResponse {
            course: Some(convert::course(&row)),
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn list_courses(
        &self,
        ctx: CallContext,
        req: ListCoursesRequest,
    ) -> Result<ListCoursesResponse, ApiError> {
        let principal = ctx.principal()?;
        let viewer = self.viewer(principal, &req.partner_id).await?;
        let page = Page::parse(req.page_size, &req.page_token, &[&viewer_filter(viewer)])?;
        let mut conn = self.db.acquire().await?;
        let (rows, next_page_token) = visible_page(
            &mut conn,
            &page,
            viewer,
            |c, after, limit| Box::pin(store::list_courses(c, after, limit)),
            store::CourseRow::visibility,
            |r| r.id,
        )
        .await?;
        Ok(ListCoursesResponse {
            courses: rows.iter().map(convert::course).collect(),
            next_page_token,
        })
    }

    /// Records a partner user's attempt at a course. A pass earns (or
    /// renews) the certification, may complete the checklist's course item,
    /// and may promote the partner.
    pub(super) async fn record_course_attempt(
        &self,
        ctx: CallContext,
        req: RecordCourseAttemptRequest,
    ) -> Result<RecordCourseAttemptResponse, ApiError> {
        let principal = ctx.principal()?.clone();
        let mut errs = FieldErrors::new();
        let course_id = errs.check("course_id", validate::uuid(&req.course_id));
        let user_id = errs
            .check("user_id", validate::optional_uuid(&req.user_id))
            .flatten();
        let score = errs.check("score_percent", ScorePercent::check(req.score_percent));
        let (course_id, score) = errs.finish_with(|| Some((course_id?, score?)))?;
        let user_id = user_id.unwrap_or(principal.user_id);

        let idem = Idempotency::new(&ctx, "RecordCourseAttempt", &req);
        let mut tx = begin_or_replay!(self.db, idem);
        let user = store::user(&mut tx, user_id)
            .await?
            .ok_or(ApiError::not_found("user"))?;
        let Some(partner_id) = user.partner_id else {
            // Partners must not learn which ids belong to staff.
            return Err(if principal.is_staff() {
                ApiError::invalid("user_id", "courses are taken by partner users")
            } else {
                ApiError::not_found("user")
            });
        };
        if !principal.can_access_partner(partner_id) {
            return Err(ApiError::not_found("user"));
        }
        if !may_manage_user(&principal, user.as_ref()) {
            return Err(ApiError::permission_denied(
                "ROLE_REQUIRED",
                "you cannot record attempts for this user",
            ));
        }
        user.status.ensure_active(format!("user/{user_id}"))?;
        // Locked: a pass may complete the checklist and change the tier.
        let mut partner = store::partner_for_update(&mut tx, partner_id)
            .await?
            .ok_or(ApiError::not_found("partner"))?;
        ensure_may_act(&principal, &partner)?;
        ensure_not_terminated(&partner)?;
        let course = store::course(&mut tx, course_id)
            .await?
            .ok_or(ApiError::not_found("course"))?;
        let viewer = Viewer {
            tier_rank: partner.tier_rank,
            partner_type: partner.partner_type,
        };
        if !viewer.sees(&course.visibility()) {
            return Err(ApiError::not_found("course"));
        }
        let passed = enablement::passes(score, course.pass_mark_percent);
        let attempt =
            store::insert_attempt(&mut tx, course_id, user_id, partner_id, score, passed).await?;
        let now = self.clock.now();
        let mut certification = None;
        if passed {
            let expires = enablement::certification_expiry(now, course.certification_valid_days);
            let (cert, renewal) =
                store::upsert_certification(&mut tx, course_id, user_id, partner_id, now, expires)
                    .await?;
            self.outbox
                .stage_for(
                    &mut tx,
                    "course.passed",
                    &attempt,
                    &ev::CoursePassed {
                        course_id: course_id.to_string(),
                        user_id: user_id.to_string(),
                        partner_id: partner_id.to_string(),
                        score_percent: score,
                    },
                )
                .await?;
            self.outbox
                .stage_for(
                    &mut tx,
                    "certification.earned",
                    &cert,
                    &ev::CertificationEarned {
                        certification_id: cert.id.to_string(),
                        course_id: course_id.to_string(),
                        user_id: user_id.to_string(),
                        partner_id: partner_id.to_string(),
                        expires_at: Some(timestamp(cert.expires_at)),
                        renewal,
                    },
                )
                .await?;
            operations::check_required_courses(&mut tx, &self.outbox, &mut partner, now).await?;
            operations::review_partner_tier(&mut tx, &self.outbox, &mut partner, now).await?;
            certification = Some(convert::certification(&cert, now));
        }
        let resp = RecordCourseAttemptResponse {
            attempt: Some(convert::attempt(&attempt)),
            certification,
        };
        idem.commit(tx, &resp).await?;
        Ok(resp)
    }

    pub(super) async fn list_certifications(
        &self,
        ctx: CallContext,
        req: ListCertificationsRequest,
    ) -> Result<ListCertificationsResponse, ApiError> {
        let principal = ctx.principal()?;
        let mut errs = FieldErrors::new();
        let partner_id = errs
            .check("partner_id", validate::optional_uuid(&req.partner_id))
            .flatten();
        let user_id = errs
            .check("user_id", validate::optional_uuid(&req.user_id))
            .flatten();
        errs.finish()?;
        let partner_id = principal.partner_scope(partner_id)?;
        let filter = format!(
            "{}|{}|{}",
            opt_id(partner_id),
            opt_id(user_id),
            req.include_expired
        );
        let page = Page::parse(req.page_size, &req.page_token, &[&filter])?;
        let now = self.clock.now();
        let mut conn = self.db.acquire().await?;
        let mut rows = store::list_certifications(
            &mut conn,
            partner_id,
            user_id,
            req.include_expired,
            now,
            page.after_or_nil(),
            page.fetch_limit(),
        )
        .await?;
        let next_page_token = page.finish(&mut rows, |r| r.id);
        Ok(ListCertificationsResponse {
            certifications: rows
                .iter()
                .map(|c| convert::certification(c, now))
                .collect(),
            next_page_token,
        })
    }
}

/// The page-token filter of a library list: whose view it is.
fn viewer_filter(viewer: Option<Viewer>) -> String {
    viewer
        .map(|v| format!("{}:{}", v.tier_rank, v.partner_type))
        .unwrap_or_default()
}
