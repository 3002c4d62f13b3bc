//! A program's commission settings: where its links may point, how
//! conversions are attributed, its fraud thresholds, its postback
//! credentials and its payout minimum.

use prm_proto::commissions::PutProgramSettingsRequest;
use prm_runtime::fields::{
    AmountMinor, AttributionWindowDays, MaxClicksPerSourceHour, MinSecondsToConvert, PostbackSecret,
};
use prm_runtime::{ApiError, FieldErrors, validate};
use sha2::{Digest, Sha256};

pub use prm_runtime::vocabulary::AttributionModel;

pub const DEFAULT_WINDOW_DAYS: i32 = 90;
pub const MAX_WINDOW_DAYS: i32 = 365;
pub const DEFAULT_MIN_SECONDS: i32 = 10;
pub const DEFAULT_MAX_CLICKS_PER_SOURCE_HOUR: i32 = 20;
/// Postback tokens and HMAC secrets: long enough not to be guessed.
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
        let window = match errs.check(
            "attribution_window_days",
            AttributionWindowDays::check(req.attribution_window_days),
        ) {
            Some(0) | None => DEFAULT_WINDOW_DAYS,
            Some(d) => d,
        };
        let min_seconds = errs
            .check(
                "min_seconds_to_convert",
                MinSecondsToConvert::check(req.min_seconds_to_convert),
            )
            .unwrap_or_default();
        let max_clicks = match errs.check(
            "max_clicks_per_source_hour",
            MaxClicksPerSourceHour::check(req.max_clicks_per_source_hour),
        ) {
            Some(0) | None => DEFAULT_MAX_CLICKS_PER_SOURCE_HOUR,
            Some(n) => n,
        };
        errs.check("min_payout_minor", AmountMinor::check(req.min_payout_minor));
        let token = errs.check("postback_token", PostbackSecret::check(&req.postback_token));
        let secret = errs.check(
            "postback_secret",
            PostbackSecret::check(&req.postback_secret),
        );
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
