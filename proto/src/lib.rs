//! The PRM wire contracts: protobuf messages and gRPC stubs generated from
//! `proto/prm/**`, one module per package (`prm.<service>.v1`), the [`Rpc`]
//! each request message names, and the encoded descriptor set that each
//! service serves over gRPC reflection.
//!
//! Nothing here is written by hand except this file; change the `.proto`
//! files instead.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

pub mod prm {
    pub mod audit {
        pub mod v1 {
            tonic::include_proto!("prm.audit.v1");
        }
    }
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
    audit::v1 as audit, commissions::v1 as commissions, common::v1 as common,
    dealreg::v1 as dealreg, events::v1 as events, mdf::v1 as mdf, onboarding::v1 as onboarding,
    reporting::v1 as reporting,
};

/// A unary RPC of a PRM service, named by its request message (every RPC
/// has a request message of its own), so that a caller can send any of
/// them through one generic call (the gateway does). Implemented for every
/// request by `build.rs`.
pub trait Rpc: prost::Message + Default + Send + 'static {
    type Response: prost::Message + Default + Send + 'static;
    /// The PRM service that serves it, e.g. "dealreg" (package `prm.dealreg.v1`).
    const SERVICE: &'static str;
    /// The gRPC service's full name, e.g. "prm.dealreg.v1.DealregService".
    const GRPC_SERVICE: &'static str;
    /// The method's name, e.g. "GetRegistration".
    const METHOD: &'static str;
    /// The HTTP/2 path of the call, "/<GRPC_SERVICE>/<METHOD>".
    const PATH: &'static str;
}

include!(concat!(env!("OUT_DIR"), "/prm_rpcs.rs"));

/// Every PRM protobuf file (with its imports), encoded as a
/// `google.protobuf.FileDescriptorSet`, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/prm_descriptor.bin"));
