//! A program's commission settings: where its links may point, how
//! conversions are attributed, its fraud thresholds, its postback
//! credentials and its payout minimum.

use prm_proto::commissions::PutProgramSettingsRequest;
use prm_runtime::{ApiError, FieldErrors, validate};
use sha2::{Digest, Sha256};

pub use prm_runtime::vocabulary::AttributionModel;

pub const DEFAULT_WINDOW_DAYS: i32 = 90;
pub const MAX_WINDOW_DAYS: i32 = 365;
pub const DEFAULT_MIN_SECONDS: i32 = 10;
pub const DEFAULT_MAX_CLICKS_PER_SOURCE_HOUR: i32 = 20;
/// Postback tokens and HMAC secrets: long enough not to be guessed.
pub const MIN_SECRET_LEN: usize = 16;
pub const MAX_SECRET_LEN: usize = 256;
pub const MAX_ALLOWED_DOMAINS: usize = 50;

/// The settings of a program, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thresholds {
    pub attribution_model: AttributionModel,
    pub window_days: i32,
    pub min_seconds_to_convert: i32,
    pub max_clicks_per_source_hour: i32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            attribution_model: AttributionModel::LastClick,
            window_days: DEFAULT_WINDOW_DAYS,
            min_seconds_to_convert: DEFAULT_MIN_SECONDS,
            max_clicks_per_source_hour: DEFAULT_MAX_CLICKS_PER_SOURCE_HOUR,
        }
    }
}

/// A validated `PutProgramSettings`.
#[derive(Clone, Debug)]
pub struct NewSettings {
    pub allowed_domains: Vec<String>,
    pub thresholds: Thresholds,
    pub min_payout_minor: i64,
    /// sha256 of a new token; `None` keeps the current one.
    pub token_sha256: Option<String>,
    /// A new HMAC secret; `None` keeps the current one.
    pub secret: Option<String>,
}

fn secret(value: &str) -> Result<Option<String>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() < MIN_SECRET_LEN || value.len() > MAX_SECRET_LEN {
        return Err(format!(
            "must be {MIN_SECRET_LEN} to {MAX_SECRET_LEN} characters"
        ));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("may contain only printable ASCII without spaces".into());
    }
    Ok(Some(value.to_owned()))
}

/// Hex sha256, as tokens are stored and compared.
pub fn sha256_hex(value: &[u8]) -> String {
    hex(&Sha256::digest(value))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl NewSettings {
    pub fn parse(req: &PutProgramSettingsRequest) -> Result<(uuid::Uuid, NewSettings), ApiError> {
        let mut errs = FieldErrors::new();
        let program = errs.check("program_id", validate::uuid(&req.program_id));
        let mut domains = Vec::new();
        if req.allowed_domains.len() > MAX_ALLOWED_DOMAINS {
            errs.add(
                "allowed_domains",
                format!("at most {MAX_ALLOWED_DOMAINS} domains"),
            );
        }
        for (i, d) in req.allowed_domains.iter().enumerate() {
            if let Some(d) = errs.check(&format!("allowed_domains[{i}]"), validate::domain(d))
                && !domains.contains(&d)
            {
                domains.push(d);
            }
        }
        let model = match req.attribution_model {
            0 => Some(AttributionModel::LastClick),
            v => errs.check("attribution_model", AttributionModel::from_proto(v)),
        };
        let window = match req.attribution_window_days {
            0 => DEFAULT_WINDOW_DAYS,
            d if (1..=MAX_WINDOW_DAYS).contains(&d) => d,
            _ => {
                errs.add(
                    "attribution_window_days",
                    format!("must be 1 to {MAX_WINDOW_DAYS} days (0 for the default {DEFAULT_WINDOW_DAYS})"),
                );
                0
            }
        };
        let min_seconds = match req.min_seconds_to_convert {
            s if (0..=86_400).contains(&s) => s,
            _ => {
                errs.add("min_seconds_to_convert", "must be 0 to 86400 seconds");
                0
            }
        };
        let max_clicks = match req.max_clicks_per_source_hour {
            0 => DEFAULT_MAX_CLICKS_PER_SOURCE_HOUR,
            n if n >= 1 => n,
            _ => {
                errs.add(
                    "max_clicks_per_source_hour",
                    "must be positive (0 for the default)",
                );
                0
            }
        };
        if req.min_payout_minor < 0 || req.min_payout_minor > super::MAX_AMOUNT_MINOR {
            errs.add(
                "min_payout_minor",
                "must be 0 or more minor units, not absurdly large",
            );
        }
        let token = errs.check("postback_token", secret(&req.postback_token));
        let secret = errs.check("postback_secret", secret(&req.postback_secret));
        errs.finish_with(|| {
            Some((
                program?,
                NewSettings {
                    allowed_domains: domains,
                    thresholds: Thresholds {
                        attribution_model: model?,
                        window_days: window,
                        min_seconds_to_convert: min_seconds,
                        max_clicks_per_source_hour: max_clicks,
                    },
                    min_payout_minor: req.min_payout_minor,
                    token_sha256: token?.map(|t| sha256_hex(t.as_bytes())),
                    secret: secret?,
                },
            ))
        })
    }
}
