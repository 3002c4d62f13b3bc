//! What a request field accepts, declared once for the service that
//! checks it and the REST document that states it.
//!
//! Each field rule is a type: the gateway's JSON shapes use it as the
//! field's type (it carries the value as sent, unchecked: the service
//! checks every field and names every bad one at once), its OpenAPI schema
//! (feature `openapi`) is a component named after it with its bounds, and
//! the service checks the wire value with its `check`, which says what is
//! wrong in the words the API has always used. So the document and the
//! validation cannot disagree: they are the same declaration.
//!
//! - [`text_field!`](crate::text_field): trimmed text of `MIN..=MAX` characters
//!   without control characters (tab and newline allowed);
//! - [`int_field!`](crate::int_field): an integer in a range;
//! - formats shared by every service: [`Id`], [`CurrencyCode`],
//!   [`CountryCode`], [`EmailAddress`], [`DomainName`], [`WebUrl`],
//!   [`CalendarDate`], and money ([`Amount`], [`PositiveAmount`]).
//!
//! Rules a schema cannot state (a date not in the past, shares that sum
//! to 100%, a currency that must match the fund's) stay in the services'
//! domain code; the document says them in the field's description.

use crate::validate;

mod commissions;
mod dealreg;
mod mdf;
mod onboarding;
mod reporting;

pub use commissions::*;
pub use dealreg::*;
pub use mdf::*;
pub use onboarding::*;
pub use reporting::*;

/// No amount anyone means is larger (a hundred billion in major units of
/// a two-decimal currency): more is a typo, refused before it reaches a
/// ledger, and every sum of such amounts stays far from overflowing.
pub const MAX_AMOUNT_MINOR: i64 = 10_000_000_000_000;

/// What `text!` fields refuse: control characters other than tab and
/// newline (Unicode's `Cc`, which `char::is_control` tests).
#[cfg(feature = "openapi")]
const NO_CONTROL: &str = "\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f";

/// Declares text fields: `Name: MIN..=MAX;` (MIN is 0 or 1: optional or
/// required), each with its doc comment, and optionally an example
/// (`Name: 1..=200 = "Acme GmbH";`).
#[macro_export]
macro_rules! text_field {
    ($($(#[doc = $doc:literal])* $name:ident: $min:literal..=$max:literal $(= $ex:literal)?;)+) => {$(
        $(#[doc = $doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub const MAX: usize = $max;

            /// The value trimmed, or what is wrong with it.
            pub fn check(value: &str) -> Result<String, String> {
                if $min > 0 {
                    $crate::validate::required_text(value, $max)
                } else {
                    $crate::validate::optional_text(value, $max)
                }
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        $crate::field_schema!(
            $name,
            $crate::fields::text_schema(&[$($doc),*], $min, $max, [$($ex),*])
        );
    )+};
}

/// Declares integer fields: `Name: i32 in MIN..=MAX, "what is wrong";`,
/// optionally with an example (`in 1..=100 = 70, "..."`).
#[macro_export]
macro_rules! int_field {
    ($($(#[doc = $doc:literal])* $name:ident: $ty:ident in $min:literal..=$max:literal $(= $ex:literal)?, $wrong:literal;)+) => {$(
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $ty);

        impl $name {
            pub const MIN: $ty = $min;
            pub const MAX: $ty = $max;

            /// The value, or what is wrong with it.
            pub fn check(value: $ty) -> Result<$ty, String> {
                if (Self::MIN..=Self::MAX).contains(&value) {
                    Ok(value)
                } else {
                    Err(format!($wrong))
                }
            }
        }

        impl From<$name> for $ty {
            fn from(v: $name) -> $ty {
                v.0
            }
        }

        $crate::field_schema!(
            $name,
            $crate::fields::int_schema(
                &[$($doc),*],
                i64::from($min as $ty),
                i64::from($max as $ty),
                std::mem::size_of::<$ty>() == 4,
                [$(i64::from($ex as $ty)),*],
            )
        );
    )+};
}

/// A field type's OpenAPI schema (feature `openapi`): a component named
/// after it.
#[doc(hidden)]
#[macro_export]
macro_rules! field_schema {
    ($name:ident, $schema:expr) => {
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $schema.into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}

/// A field's description: its doc comment's lines, trimmed.
#[cfg(feature = "openapi")]
fn description(docs: &[&str]) -> Option<String> {
    let text = docs.iter().map(|l| l.trim()).collect::<Vec<_>>().join("\n");
    (!text.is_empty()).then_some(text)
}

#[cfg(feature = "openapi")]
fn string(docs: &[&str]) -> utoipa::openapi::ObjectBuilder {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(description(docs))
}

/// Text of `min..=max` characters: when required, with one that is
/// neither a space nor a control character (it is trimmed).
#[doc(hidden)]
#[cfg(feature = "openapi")]
pub fn text_schema<const N: usize>(
    docs: &[&str],
    min: usize,
    max: usize,
    examples: [&str; N],
) -> utoipa::openapi::Object {
    let pattern = if min > 0 {
        format!("^[^{NO_CONTROL}]*[^\\s{NO_CONTROL}][^{NO_CONTROL}]*$")
    } else {
        format!("^[^{NO_CONTROL}]*$")
    };
    string(docs)
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(Some(pattern))
        .examples(examples)
        .build()
}

#[doc(hidden)]
#[cfg(feature = "openapi")]
pub fn int_schema<const N: usize>(
    docs: &[&str],
    min: i64,
    max: i64,
    int32: bool,
    examples: [i64; N],
) -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
    let format = if int32 {
        KnownFormat::Int32
    } else {
        KnownFormat::Int64
    };
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(format)))
        .description(description(docs))
        .minimum(Some(min))
        .maximum(Some(max))
        .examples(examples)
        .build()
}

/// Declares a string field of a format every service shares, checked by
/// `check` and described by `schema`.
macro_rules! format_field {
    ($(#[doc = $doc:literal])* $name:ident, check = $check:path, schema = |$docs:ident| $schema:expr) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The value normalised, or what is wrong with it.
            pub fn check(value: &str) -> Result<String, String> {
                $check(value).map(|v| v.to_string())
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        field_schema!($name, {
            let $docs: &[&str] = &[$($doc),*];
            $schema
        });
    };
}

format_field!(
    /// A UUID, as every id of the API.
    Id,
    check = validate::uuid,
    schema = |docs| string(docs)
        .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
            utoipa::openapi::schema::KnownFormat::Uuid
        )))
        .examples(["01a24cbe-8d5a-70d9-9fc7-3c8f5375c663"])
        .build()
);

impl Id {
    /// An optional id: empty is `None`.
    pub fn check_optional(value: &str) -> Result<Option<uuid::Uuid>, String> {
        validate::optional_uuid(value)
    }
}

format_field!(
    /// An ISO 4217 currency code, in capitals.
    CurrencyCode,
    check = validate::currency,
    schema = |docs| string(docs)
        .enum_values(Some(validate::CURRENCIES.iter().copied()))
        .examples(["EUR"])
        .build()
);

format_field!(
    /// An ISO 3166-1 alpha-2 country code (either case).
    CountryCode,
    check = validate::country,
    schema = |docs| string(docs)
        .enum_values(Some(validate::COUNTRIES.iter().copied()))
        .examples(["DE"])
        .build()
);

/// A domain label: letters, digits and inner hyphens.
#[cfg(feature = "openapi")]
const LABEL: &str = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";

/// A registrable host: two or more labels, the last alphabetic (or
/// punycode).
#[cfg(feature = "openapi")]
fn host_pattern() -> String {
    format!("(?:{LABEL}\\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})")
}

format_field!(
    /// A bare domain name such as example.com (no scheme, path or port; an
    /// IDN as punycode), stored in lower case.
    DomainName,
    check = validate::domain,
    schema = |docs| string(docs)
        .max_length(Some(253))
        .pattern(Some(format!("^{}\\.?$", host_pattern())))
        .examples(["acme.example"])
        .build()
);

format_field!(
    /// An email address (its domain is stored in lower case).
    EmailAddress,
    check = validate::email,
    schema = |docs| {
        let local = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
        string(docs)
            .max_length(Some(254))
            .pattern(Some(format!(
                "^{local}{{1,32}}(?:\\.{local}{{1,15}}){{0,2}}@{}$",
                host_pattern()
            )))
            .examples(["jane@acme.example"])
            .build()
    }
);

format_field!(
    /// An absolute http or https URL.
    WebUrl,
    check = validate::url,
    schema = |docs| string(docs)
        .format(Some(utoipa::openapi::schema::SchemaFormat::Custom(
            "uri".into()
        )))
        .max_length(Some(2048))
        .pattern(Some(format!(
            "^https?://{}(?::[0-9]{{1,5}})?(?:[/?#][^\\s{NO_CONTROL}]*)?$",
            host_pattern()
        )))
        .examples(["https://shop.example/landing"])
        .build()
);

/// A calendar date, YYYY-MM-DD. (Which dates are allowed is the field's
/// rule, checked by its service.)
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct CalendarDate(pub String);

impl From<CalendarDate> for String {
    fn from(v: CalendarDate) -> String {
        v.0
    }
}

field_schema!(
    CalendarDate,
    string(&["A calendar date, YYYY-MM-DD."])
        .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
            utoipa::openapi::schema::KnownFormat::Date
        )))
        .pattern(Some("^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"))
        .build()
);

int_field! {
    /// An amount in minor units of its currency (cents for EUR): not
    /// negative, and at most 10^13.
    AmountMinor: i64 in 0..=10_000_000_000_000, "amount_minor must be from 0 to {MAX_AMOUNT_MINOR}";
    /// An amount in minor units of its currency: positive, and at most
    /// 10^13.
    PositiveAmountMinor: i64 in 1..=10_000_000_000_000, "amount_minor must be from 1 to {MAX_AMOUNT_MINOR}";
    /// Basis points: 1 bp is 0.01%, 10000 is 100%.
    BasisPoints: i32 in 0..=10_000, "must be from 0 to 10000 basis points";
}

/// Money sent to the API: integer minor units of an ISO 4217 currency.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Amount {
    #[cfg_attr(feature = "openapi", schema(example = 125000))]
    pub amount_minor: AmountMinor,
    #[cfg_attr(feature = "openapi", schema(example = "EUR"))]
    pub currency: CurrencyCode,
}

/// Money sent to the API where nothing is meaningful (a budget, a
/// request, a claim): more than zero.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PositiveAmount {
    #[cfg_attr(feature = "openapi", schema(example = 125000))]
    pub amount_minor: PositiveAmountMinor,
    #[cfg_attr(feature = "openapi", schema(example = "EUR"))]
    pub currency: CurrencyCode,
}

impl Amount {
    /// A service's amount as sent back (in a registration's products).
    pub fn from_proto(m: &Option<prm_proto::common::Money>) -> Option<Amount> {
        m.as_ref().map(|m| Amount {
            amount_minor: AmountMinor(m.amount_minor),
            currency: CurrencyCode(m.currency.clone()),
        })
    }

    pub fn to_proto(&self) -> prm_proto::common::Money {
        prm_proto::common::Money {
            amount_minor: self.amount_minor.0,
            currency: self.currency.0.clone(),
        }
    }
}

impl PositiveAmount {
    pub fn to_proto(&self) -> prm_proto::common::Money {
        prm_proto::common::Money {
            amount_minor: self.amount_minor.0,
            currency: self.currency.0.clone(),
        }
    }
}
