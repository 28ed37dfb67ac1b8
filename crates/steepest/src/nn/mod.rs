//! Neural-network building blocks. For now: the named parameter store that optimizers and models
//! share (parameters are addressed by name, such as `"hidden.0.weight"`, never by position).

mod params;

pub use params::ParamStore;
