//! Rows to proto messages. Staff see near matches; a partner sees only
//! that its registration awaits review, never whose registration it
//! resembles.

use prm_proto::dealreg as pb;
use prm_runtime::Money;
use prm_runtime::wire::{opt_timestamp, timestamp};

use crate::domain::registration::ProductLine;
use crate::store::{DirectAccountRow, NearMatchRow, RegistrationRow, TransitionRow};

pub fn registration(
    r: &RegistrationRow,
    products: &[ProductLine],
    near_matches: &[NearMatchRow],
    staff_view: bool,
) -> pb::Registration {
    let contact = r.contact();
    pb::Registration {
        id: r.id.to_string(),
        partner_id: r.partner_id.to_string(),
        status: r.status.to_proto(),
        customer_company: r.customer_company.clone(),
        customer_domain: r.customer_domain.clone(),
        customer_domain_key: r.domain_key.clone(),
        contact: Some(pb::Contact {
            name: contact.name,
            email: contact.email,
            phone: contact.phone,
        }),
        estimated_value: Some(r.value().to_proto()),
        products: products
            .iter()
            .map(|l| pb::ProductLine {
                product: l.product.clone(),
                quantity: l.quantity,
                amount: Some(Money::new(l.amount_minor, l.currency.clone()).to_proto()),
            })
            .collect(),
        expected_close_date: r.expected_close_date.to_string(),
        notes: r.notes.clone(),
        mdf_reference: r.mdf_reference.clone(),
        submitted_at: Some(timestamp(r.submitted_at)),
        decision_due_at: Some(timestamp(r.decision_due_at)),
        decided_at: opt_timestamp(r.decided_at),
        protected_until: opt_timestamp(r.protected_until),
        extensions_used: r.extensions_used,
        rejection_reason: r.rejection_reason.map_or(0, |x| x.to_proto()),
        status_note: r.status_note.clone(),
        won_amount: r
            .won_minor
            .map(|m| Money::new(m, r.currency.clone()).to_proto()),
        closed_at: opt_timestamp(r.closed_at),
        needs_review: r.needs_review,
        near_matches: if staff_view {
            near_matches
                .iter()
                .map(|m| pb::NearMatch {
                    registration_id: m.matched_id.to_string(),
                    customer_company: m.customer_company.clone(),
                    similarity: f64::from(m.similarity),
                })
                .collect()
        } else {
            Vec::new()
        },
        version: r.version,
    }
}

pub fn transition(t: &TransitionRow) -> pb::Transition {
    pb::Transition {
        from_status: t.from_status.map_or(0, |s| s.to_proto()),
        to_status: t.to_status.to_proto(),
        action: t.action.as_str().to_owned(),
        actor_user_id: prm_runtime::wire::opt_id(t.actor_user_id),
        note: t.note.clone(),
        at: Some(timestamp(t.at)),
    }
}

pub fn direct_account(d: &DirectAccountRow) -> pb::DirectAccount {
    pb::DirectAccount {
        id: d.id.to_string(),
        company: d.company.clone(),
        domain: d.domain.clone(),
        domain_key: d.domain_key.clone(),
        created_at: Some(timestamp(d.created_at)),
    }
}
