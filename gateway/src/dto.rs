//! The JSON shapes every resource shares: snake_case fields, money as
//! `{amount_minor, currency}`, times in RFC 3339, enums as lower-case
//! strings (the runtime's vocabulary), paging parameters and the list envelope. Each
//! resource's own shapes sit beside its routes.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use prm_proto::common as pc;
pub use prm_runtime::Role;
/// What each request field accepts: declared once, for the service that
/// checks it and for this document.
pub use prm_runtime::fields::*;
/// Every state and kind the API shows: declared once, beside the services'
/// use of them, in the runtime's vocabulary.
pub use prm_runtime::vocabulary::*;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

pub fn time(t: &Option<prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    prm_runtime::wire::from_timestamp(t.as_ref())
}

/// A proto id field: "" is absent.
pub fn id(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// Money in integer minor units of an ISO 4217 currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    #[schema(example = 125000)]
    pub amount_minor: i64,
    #[schema(example = "EUR")]
    pub currency: String,
}

impl Money {
    pub fn from_proto(m: &Option<pc::Money>) -> Option<Money> {
        m.as_ref().map(|m| Money {
            amount_minor: m.amount_minor,
            currency: m.currency.clone(),
        })
    }
    pub fn to_proto(&self) -> pc::Money {
        pc::Money {
            amount_minor: self.amount_minor,
            currency: self.currency.clone(),
        }
    }
}

/// One page of a list: its items, and the token of the next page. Every
/// list of the API has this shape; its schema is named after the item
/// (`Partner` → `PartnerList`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct List<T> {
    pub items: Vec<T>,
    /// Pass as `page_token` for the next page; null on the last page.
    pub next_page_token: Option<String>,
}

impl<T> List<T> {
    /// A page from its items and the service's `next_page_token` ("" on
    /// the last page).
    pub fn page(items: Vec<T>, next_page_token: String) -> Self {
        Self {
            items,
            next_page_token: token(next_page_token),
        }
    }

    /// A page of a service's `items` as their JSON shape, and its
    /// `next_page_token` ("" on the last page).
    pub fn of<P>(items: &[P], next_page_token: String) -> Self
    where
        T: for<'a> From<&'a P>,
    {
        Self::page(items.iter().map(T::from).collect(), next_page_token)
    }

    /// A list that is never paged.
    pub fn all(items: Vec<T>) -> Self {
        Self {
            items,
            next_page_token: None,
        }
    }
}

impl<T: ToSchema> PartialSchema for List<T> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .property(
                "items",
                ArrayBuilder::new().items(Ref::from_schema_name(T::name())),
            )
            .required("items")
            .property(
                "next_page_token",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .description(Some(
                        "Pass as `page_token` for the next page; null on the last page.",
                    )),
            )
            .into()
    }
}

impl<T: ToSchema> ToSchema for List<T> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("{}List", T::name()))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
}

/// Paging parameters of every list.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page (default 50, at most 500).
    #[param(minimum = 0)]
    pub page_size: Option<i32>,
    /// The `next_page_token` of the previous page.
    pub page_token: Option<String>,
}

pub fn token(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}
