//! What an API key may do: its scopes. A scope is `<resource>.read` or
//! `<resource>.write` (write implies read), where the resource is a REST
//! collection in snake_case (`deal_registrations.write`,
//! `mdf_requests.read`), or one of the presets `all` and `read_only`.
//! Scope names are a public contract: [`RESOURCES`] is the list, the
//! OpenAPI document names each route's scope, and a key stores the scopes
//! it was given (a preset stays a preset, so `all` covers resources added
//! later).
//!
//! Scopes only ever narrow what the key's user may do: the services still
//! check roles, tenancy and status. The gateway checks each route's scope
//! and every service checks it again for its own RPCs
//! ([`crate::CallContext::require_scope`]).

use std::fmt;

/// Every resource a scope can name, one per REST collection.
pub const RESOURCES: &[&str] = &[
    "api_key_policy",
    "api_keys",
    "applications",
    "attribution_models",
    "audit_events",
    "certifications",
    "commission_settings",
    "commissions",
    "content",
    "conversions",
    "course_attempts",
    "courses",
    "deal_registration_policy",
    "deal_registrations",
    "direct_accounts",
    "ledger",
    "links",
    "mdf_allocations",
    "mdf_budgets",
    "mdf_claims",
    "mdf_funds",
    "mdf_requests",
    "partners",
    "payout_profiles",
    "payouts",
    "plans",
    "postback_log",
    "programs",
    "reports",
    "terms",
    "tier_reviews",
    "tiers",
    "users",
];

/// Every scope: each preset, then each resource's read and write.
pub fn every_scope() -> Vec<String> {
    let mut all = vec![ALL.to_owned(), READ_ONLY.to_owned()];
    for r in RESOURCES {
        all.push(format!("{r}.read"));
        all.push(format!("{r}.write"));
    }
    all
}

/// The preset of every scope.
pub const ALL: &str = "all";
/// The preset of every `.read` scope.
pub const READ_ONLY: &str = "read_only";

/// What an RPC or a route needs: a resource's read or write scope, or
/// nothing beyond a principal (`"any"`: reading who one is), or no
/// principal at all (`"gateway"`: calls the gateway makes for public
/// traffic).
pub const ANY: &str = "any";
pub const GATEWAY: &str = "gateway";

/// Reads a scope name: a preset, or `<resource>.read|write` of a known
/// resource.
pub fn parse(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name == ALL || name == READ_ONLY {
        return Ok(name.to_owned());
    }
    let known = name
        .rsplit_once('.')
        .filter(|(r, access)| RESOURCES.contains(r) && matches!(*access, "read" | "write"));
    match known {
        Some(_) => Ok(name.to_owned()),
        None => Err(format!(
            "{name:?} is not a scope: use all, read_only, or <resource>.read|write (see GET /v1/api-keys/scopes)"
        )),
    }
}

/// A key's scopes, as given (presets kept). An empty set allows nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Everything: the `all` preset (sessions and keys made before scopes).
    pub fn all() -> Scopes {
        Scopes(vec![ALL.to_owned()])
    }

    /// Reads scope names, refusing any unknown one and keeping each once.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Scopes, String> {
        let mut out: Vec<String> = Vec::new();
        for n in names {
            let s = parse(n.as_ref())?;
            if !out.contains(&s) {
                out.push(s);
            }
        }
        Ok(Scopes(out))
    }

    /// Scope names from the wire: unknown ones (a newer identity owner
    /// during a rolling update) are left out, so a key only ever gets less.
    pub fn from_wire<S: AsRef<str>>(names: &[S]) -> Scopes {
        let mut out: Vec<String> = Vec::new();
        for n in names {
            if let Ok(s) = parse(n.as_ref())
                && !out.contains(&s)
            {
                out.push(s);
            }
        }
        Scopes(out)
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }

    pub fn is_all(&self) -> bool {
        self.0.iter().any(|s| s == ALL)
    }

    /// Whether these scopes grant `required` (a resource scope; `any` and
    /// `gateway` are granted to every principal).
    pub fn allows(&self, required: &str) -> bool {
        if required == ANY || required == GATEWAY {
            return true;
        }
        let Some((resource, access)) = required.rsplit_once('.') else {
            return false;
        };
        self.0.iter().any(|s| {
            s == ALL
                || s == required
                || (access == "read" && (s == READ_ONLY || *s == format!("{resource}.write")))
        })
    }

    /// Whether every scope of `other` is within these: a key can never
    /// mint a key broader than itself.
    pub fn covers(&self, other: &Scopes) -> bool {
        other.0.iter().all(|s| match s.as_str() {
            ALL => self.is_all(),
            READ_ONLY => self.is_all() || self.0.iter().any(|x| x == READ_ONLY),
            scope => self.allows(scope),
        })
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(names: &[&str]) -> Scopes {
        Scopes::parse(names).expect("scopes")
    }

    #[test]
    fn write_implies_read_and_presets_cover_their_kind() {
        let s = scopes(&["deal_registrations.write", "mdf_requests.read"]);
        assert!(s.allows("deal_registrations.read"));
        assert!(s.allows("deal_registrations.write"));
        assert!(s.allows("mdf_requests.read"));
        assert!(!s.allows("mdf_requests.write"));
        assert!(!s.allows("partners.read"));
        assert!(s.allows(ANY));
        let ro = scopes(&["read_only"]);
        assert!(ro.allows("payouts.read") && !ro.allows("payouts.write"));
        assert!(Scopes::all().allows("payouts.write"));
        assert!(!Scopes::default().allows("payouts.read"));
    }

    #[test]
    fn a_key_never_covers_a_broader_one() {
        let ro = scopes(&["read_only"]);
        assert!(ro.covers(&scopes(&["links.read"])));
        assert!(ro.covers(&scopes(&["read_only"])));
        assert!(!ro.covers(&scopes(&["links.write"])));
        assert!(!ro.covers(&scopes(&["all"])));
        let links = scopes(&["links.write"]);
        assert!(links.covers(&scopes(&["links.read"])));
        assert!(!links.covers(&scopes(&["read_only"])));
        assert!(Scopes::all().covers(&scopes(&["all", "read_only", "payouts.write"])));
    }

    #[test]
    fn unknown_scopes_are_refused_by_name_and_dropped_from_the_wire() {
        let err = Scopes::parse(&["deals.write"]).expect_err("unknown");
        assert!(err.contains("deals.write"), "{err}");
        assert!(Scopes::parse(&["links.delete"]).is_err());
        assert_eq!(
            Scopes::from_wire(&["links.read", "future.read"]),
            scopes(&["links.read"])
        );
        assert_eq!(every_scope().len(), 2 + 2 * RESOURCES.len());
    }
}
