//! Deal registration's fields: the registration, its products and
//! decisions, and the policy.

use crate::{int_field, text_field};

text_field! {
    /// A contact's phone number, as the partner writes it.
    PhoneNumber: 0..=40 = "+49 30 1234567";
    /// A product on a registration.
    ProductName: 1..=200 = "Seats";
    /// Notes on a registration or a decision.
    Notes: 0..=4000 = "Replacing their CRM";
    /// What staff need from the partner, or why a deal was lost.
    RequiredNote: 1..=4000 = "Which products, and how many seats?";
    /// The MDF campaign code a registration carries, if any: deals with it
    /// count towards that MDF request's return.
    MdfReference: 0..=200 = "WEB-LAUNCH";
}

int_field! {
    /// How many of the product.
    Quantity: i32 in 1..=1000000 = 100, "must be between 1 and 1000000";
    /// Business hours staff have to decide on a submitted registration.
    SlaBusinessHours: i32 in 1..=2000 = 48, "must be between 1 and 2000";
    /// Days an approval protects the registration.
    ProtectionDays: i32 in 1..=730 = 90, "must be between 1 and 730";
    /// Days each extension adds.
    ExtensionDays: i32 in 1..=365 = 30, "must be between 1 and 365";
    /// Extensions allowed per registration.
    MaxExtensions: i32 in 0..=10 = 2, "must be between 0 and 10";
    /// Days before protection ends that partners are warned.
    NoticeDays: i32 in 0..=365 = 14, "must be between 0 and 365";
}
