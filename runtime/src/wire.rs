//! Conversions between domain values and their protobuf and database forms,
//! written once for every service: timestamps, optional ids, and the
//! [`domain_enum!`](crate::domain_enum) macro that gives a domain state or
//! kind its stored name, its wire value and a typed database column.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A UTC time as a `google.protobuf.Timestamp`.
pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

pub fn opt_timestamp(t: Option<DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    t.map(timestamp)
}

/// A `google.protobuf.Timestamp` as a UTC time; `None` when absent or out
/// of range. Negative nanos (invalid on the wire) count as zero.
pub fn from_timestamp(t: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
}

/// An optional id as a proto string field ("" when absent).
pub fn opt_id(id: Option<Uuid>) -> String {
    id.map(|i| i.to_string()).unwrap_or_default()
}

/// A proto string field as an optional id: "" is `None`.
pub fn parse_opt_id(s: &str) -> Result<Option<Uuid>, uuid::Error> {
    if s.is_empty() {
        Ok(None)
    } else {
        Uuid::parse_str(s).map(Some)
    }
}

/// Declares a domain enum (a state, a kind, a role) together with:
/// - its stable lower-case name, used in storage, events and logs
///   (`as_str`, `parse`, `Display`);
/// - its protobuf enum (`to_proto`, `from_proto` refusing UNSPECIFIED and
///   unknown values, `filter_from_proto` reading UNSPECIFIED as "any");
/// - a typed TEXT column (`sqlx::Type`, `Encode`, `Decode`, arrays), so a
///   store reads and writes the enum and an unknown stored value is an
///   error, never a silent default;
/// - serde as the same lower-case name (REST bodies, settings).
///
/// ```ignore
/// prm_runtime::domain_enum! {
///     /// Partner status.
///     pub enum PartnerStatus: pb::PartnerStatus as "partner status" {
///         Active = "active" => Active,
///         Suspended = "suspended" => Suspended,
///     }
/// }
/// ```
///
/// An enum with no protobuf counterpart (a history action stored as text)
/// leaves out `: proto` and the `=> ProtoVariant`s.
#[macro_export]
macro_rules! domain_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident as $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $stored:literal ),+ $(,)?
        }
    ) => {
        $crate::domain_enum!(@words $(#[$meta])* $vis enum $name as $what {
            $( $(#[$vmeta])* $variant = $stored ),+
        });
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $proto:ty as $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $stored:literal => $pvariant:ident ),+ $(,)?
        }
    ) => {
        $crate::domain_enum!(@words $(#[$meta])* $vis enum $name as $what {
            $( $(#[$vmeta])* $variant = $stored ),+
        });

        impl $name {
            pub fn to_proto(self) -> i32 {
                match self { $($name::$variant => <$proto>::$pvariant as i32),+ }
            }

            /// From the wire: UNSPECIFIED is "is required"; unknown values
            /// are refused.
            pub fn from_proto(value: i32) -> ::core::result::Result<Self, ::std::string::String> {
                match <$proto>::try_from(value) {
                    $(::core::result::Result::Ok(<$proto>::$pvariant) => ::core::result::Result::Ok($name::$variant),)+
                    _ if value == 0 => ::core::result::Result::Err("is required".into()),
                    _ => ::core::result::Result::Err(::std::format!("unknown {} {}", $what, value)),
                }
            }

            /// A list filter: UNSPECIFIED is "any".
            pub fn filter_from_proto(
                value: i32,
            ) -> ::core::result::Result<::core::option::Option<Self>, ::std::string::String> {
                if value == 0 {
                    ::core::result::Result::Ok(::core::option::Option::None)
                } else {
                    Self::from_proto(value).map(::core::option::Option::Some)
                }
            }
        }
    };
    (@words
        $(#[$meta:meta])*
        $vis:vis enum $name:ident as $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $stored:literal ),+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable lower-case name used in storage, events and REST.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $stored),+ }
            }

            pub fn parse(s: &str) -> ::core::option::Option<Self> {
                match s {
                    $($stored => ::core::option::Option::Some($name::$variant),)+
                    _ => ::core::option::Option::None,
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as $crate::__private::serde::Deserialize>::deserialize(deserializer)?;
                Self::parse(&s).ok_or_else(|| {
                    <D::Error as $crate::__private::serde::de::Error>::unknown_variant(
                        &s,
                        &[$($stored),+],
                    )
                })
            }
        }

        impl $crate::__private::sqlx::Type<$crate::__private::sqlx::Postgres> for $name {
            fn type_info() -> $crate::__private::sqlx::postgres::PgTypeInfo {
                <&str as $crate::__private::sqlx::Type<$crate::__private::sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &$crate::__private::sqlx::postgres::PgTypeInfo) -> bool {
                <&str as $crate::__private::sqlx::Type<$crate::__private::sqlx::Postgres>>::compatible(ty)
            }
        }

        impl $crate::__private::sqlx::postgres::PgHasArrayType for $name {
            fn array_type_info() -> $crate::__private::sqlx::postgres::PgTypeInfo {
                <&str as $crate::__private::sqlx::postgres::PgHasArrayType>::array_type_info()
            }
            fn array_compatible(ty: &$crate::__private::sqlx::postgres::PgTypeInfo) -> bool {
                <&str as $crate::__private::sqlx::postgres::PgHasArrayType>::array_compatible(ty)
            }
        }

        impl<'q> $crate::__private::sqlx::Encode<'q, $crate::__private::sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut $crate::__private::sqlx::postgres::PgArgumentBuffer,
            ) -> ::core::result::Result<
                $crate::__private::sqlx::encode::IsNull,
                $crate::__private::sqlx::error::BoxDynError,
            > {
                <&str as $crate::__private::sqlx::Encode<'q, $crate::__private::sqlx::Postgres>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> $crate::__private::sqlx::Decode<'r, $crate::__private::sqlx::Postgres> for $name {
            fn decode(
                value: $crate::__private::sqlx::postgres::PgValueRef<'r>,
            ) -> ::core::result::Result<Self, $crate::__private::sqlx::error::BoxDynError> {
                let s = <&str as $crate::__private::sqlx::Decode<'r, $crate::__private::sqlx::Postgres>>::decode(value)?;
                Self::parse(s).ok_or_else(|| {
                    ::std::format!("unknown {} {:?} in the database", $what, s).into()
                })
            }
        }
    };
}

/// The OpenAPI schema of a domain enum: a string, one of its stored
/// names, described by its doc comment's lines (`docs`, as `#[doc]` gives
/// them), if any.
#[cfg(feature = "openapi")]
pub fn enum_schema(
    docs: &[&str],
    names: impl IntoIterator<Item = &'static str>,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    let description = docs
        .iter()
        .map(|line| line.trim())
        .collect::<Vec<_>>()
        .join("\n");
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description((!description.is_empty()).then_some(description))
        .enum_values(Some(names))
        .into()
}

/// Implements `utoipa::ToSchema` for roles, which REST bodies use as they
/// are (the other words are declared with `vocabulary!`).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for crate::Role {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        enum_schema(
            &[
                "Staff roles: admin, partner_manager, finance, marketing, analyst.",
                "Partner roles: partner_admin, partner_user.",
            ],
            Self::ALL.iter().map(|v| v.as_str()),
        )
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for crate::Role {}

#[cfg(test)]
mod tests {
    use super::*;
    use prm_proto::onboarding::PartnerStatus as Proto;

    crate::domain_enum! {
        /// A test enum over a real proto enum.
        enum Status: Proto as "status" {
            Active = "active" => Active,
            Suspended = "suspended" => Suspended,
            Terminated = "terminated" => Terminated,
        }
    }

    #[test]
    fn domain_enums_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(*s));
            assert_eq!(Status::from_proto(s.to_proto()), Ok(*s));
            assert_eq!(Status::filter_from_proto(s.to_proto()), Ok(Some(*s)));
        }
        assert_eq!(Status::from_proto(0), Err("is required".into()));
        assert_eq!(Status::filter_from_proto(0), Ok(None));
        assert_eq!(Status::from_proto(99), Err("unknown status 99".into()));
        assert_eq!(Status::parse("Active"), None);
        assert_eq!(Status::Suspended.to_string(), "suspended");
        assert_eq!(
            serde_json::to_string(&Status::Suspended).expect("serialises"),
            "\"suspended\""
        );
        assert_eq!(
            serde_json::from_str::<Status>("\"terminated\"").expect("parses"),
            Status::Terminated
        );
        let err = serde_json::from_str::<Status>("\"gone\"").expect_err("unknown");
        assert!(err.to_string().contains("expected one of"), "{err}");
    }

    #[test]
    fn timestamps_round_trip() {
        let now = Utc::now();
        assert_eq!(from_timestamp(Some(&timestamp(now))), Some(now));
        assert_eq!(from_timestamp(None), None);
        let out_of_range = prost_types::Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert_eq!(from_timestamp(Some(&out_of_range)), None);
        let id = Uuid::now_v7();
        assert_eq!(parse_opt_id(&opt_id(Some(id))), Ok(Some(id)));
        assert_eq!(parse_opt_id(&opt_id(None)), Ok(None));
    }
}
