//! Each route's scope, declared once next to its OpenAPI annotation
//! (`security(("api_key" = ["deal_registrations.write"]))`) and read back
//! from the document, so that what the document promises is what the
//! gateway checks. [`crate::auth::Caller`] checks it for every
//! authenticated request; the services check their RPC's scope again.
//!
//! A route whose requirement names no scope (`"api_key" = []`) needs only
//! a valid key (`GET /v1/me`); a route with no requirement is public.

use std::collections::HashMap;

use axum::http::Method;
use prm_runtime::scopes::ANY;
use serde_json::Value;

/// The scope of every authenticated route, by path template, then method
/// (looked up on every request without allocating).
#[derive(Clone, Debug, Default)]
pub struct RouteScopes(HashMap<String, Vec<(Method, String)>>);

impl RouteScopes {
    /// Reads every operation's `api_key` requirement from the document.
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let doc = serde_json::to_value(doc).unwrap_or_default();
        let mut routes: HashMap<String, Vec<(Method, String)>> = HashMap::new();
        let paths = doc["paths"].as_object().cloned().unwrap_or_default();
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                    continue;
                };
                let declared = op["security"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find_map(|req| req.get("api_key").and_then(Value::as_array).cloned());
                if let Some(scopes) = declared {
                    let scope = scopes
                        .first()
                        .and_then(Value::as_str)
                        .unwrap_or(ANY)
                        .to_owned();
                    routes
                        .entry(path.clone())
                        .or_default()
                        .push((method, scope));
                }
            }
        }
        Self(routes)
    }

    /// The scope `method` on the route `path` (its template, as matched)
    /// needs; `None` for a route the document does not list as
    /// authenticated.
    pub fn required(&self, method: &Method, path: &str) -> Option<&str> {
        self.0
            .get(path)?
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, s)| s.as_str())
    }

    /// Every (method, path, scope), for tests and the documentation.
    pub fn iter(&self) -> impl Iterator<Item = (&Method, &str, &str)> {
        self.0.iter().flat_map(|(p, methods)| {
            methods
                .iter()
                .map(move |(m, s)| (m, p.as_str(), s.as_str()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_authenticated_route_declares_one_known_scope() {
        let scopes = RouteScopes::from_openapi(&crate::routes::api().openapi);
        let mut used = std::collections::BTreeSet::new();
        let mut count = 0;
        for (method, path, scope) in scopes.iter() {
            count += 1;
            if scope == ANY {
                assert_eq!(
                    path, "/v1/me",
                    "only the caller's own identity needs no scope"
                );
                continue;
            }
            prm_runtime::scopes::parse(scope).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
            let access = if method == Method::GET {
                "read"
            } else {
                "write"
            };
            assert!(
                scope.ends_with(access),
                "{method} {path} declares {scope}: a {method} needs .{access}"
            );
            used.insert(
                scope
                    .rsplit_once('.')
                    .map(|(r, _)| r)
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        assert!(count > 90, "{count} authenticated routes");
        for r in prm_runtime::scopes::RESOURCES {
            assert!(used.contains(*r), "no route uses the resource {r}");
        }
    }
}
