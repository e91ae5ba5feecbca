//! The vocabulary of the Cognito Sync dataset API: wire shapes, constraints and error kinds.
//!
//! Data only. The model, the server and the suite all speak in these words, but none of the
//! behaviour of the service lives here.

pub mod catalogue;
mod error;
mod level;
mod limits;
mod names;
mod pool;
mod pool_wire;
mod routes;
pub mod seed_text;
mod wire;

pub use error::ErrorKind;
pub use level::Level;
pub use limits::*;
pub use names::{
    ConstraintError, DatasetName, DeviceId, IdentityId, IdentityPoolId, Operation, RecordKey, Rule,
    validate_record_value,
};
pub use pool::*;
pub use pool_wire::*;
pub use routes::{ROUTES, Route, route_of};
pub use wire::*;
