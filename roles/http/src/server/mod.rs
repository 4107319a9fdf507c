//! The HTTP/1.1 server: the connection state machine (`role`), the
//! exchange and response API (`exchange`), static files (`files`), which methods
//! are served (`method`), the user
//! API (`protocol`, `request`) and configuration (`config`).

pub(crate) mod beneath;
pub mod config;
pub mod exchange;
pub mod files;
pub mod method;
pub mod protocol;
pub mod request;
pub mod role;
