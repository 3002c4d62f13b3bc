//! The PRM wire contracts: protobuf messages and gRPC stubs generated from
//! `proto/prm/**`, one module per package (`prm.<service>.v1`), plus the
//! encoded descriptor set that each service serves over gRPC reflection.
//!
//! Nothing here is written by hand except this file; change the `.proto`
//! files instead.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

pub mod prm {
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("prm.common.v1");
        }
    }
    pub mod commissions {
        pub mod v1 {
            tonic::include_proto!("prm.commissions.v1");
        }
    }
    pub mod dealreg {
        pub mod v1 {
            tonic::include_proto!("prm.dealreg.v1");
        }
    }
    pub mod mdf {
        pub mod v1 {
            tonic::include_proto!("prm.mdf.v1");
        }
    }
    pub mod events {
        pub mod v1 {
            tonic::include_proto!("prm.events.v1");
        }
    }
    pub mod onboarding {
        pub mod v1 {
            tonic::include_proto!("prm.onboarding.v1");
        }
    }
    pub mod reporting {
        pub mod v1 {
            tonic::include_proto!("prm.reporting.v1");
        }
    }
}

pub use prm::{
    commissions::v1 as commissions, common::v1 as common, dealreg::v1 as dealreg,
    events::v1 as events, mdf::v1 as mdf, onboarding::v1 as onboarding, reporting::v1 as reporting,
};

/// Every PRM protobuf file (with its imports), encoded as a
/// `google.protobuf.FileDescriptorSet`, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/prm_descriptor.bin"));
