//! Stand-in for the `h2` module when the `http2` feature is off: the
//! HTTP/1 exchange code (`HttpCx`) holds an optional HTTP/2 stream handle,
//! which here is a type that cannot exist, so that code compiles
//! unchanged and its HTTP/2 branches are dead. No HTTP/2 code is built.
//!
//! It must stay method-for-method in step with `h2::role::StreamCx` as
//! `HttpCx` uses it, and hold nothing else.

pub(crate) mod role {
    use std::convert::Infallible;
    use std::marker::PhantomData;

    use crate::server::exchange::HttpError;
    use crate::server::request::Request;

    /// An HTTP/2 stream handle that is never constructed.
    pub(crate) struct StreamCx<'c>(Infallible, PhantomData<&'c ()>);

    impl StreamCx<'_> {
        pub fn id(&self) -> u32 {
            match self.0 {}
        }

        pub fn respond(
            &mut self,
            _: &Request,
            _: u16,
            _: &[(&str, &str)],
            _: &[u8],
        ) -> Result<(), HttpError> {
            match self.0 {}
        }

        pub fn start_response(
            &mut self,
            _: &Request,
            _: u16,
            _: &[(&str, &str)],
            _: Option<u64>,
        ) -> Result<(), HttpError> {
            match self.0 {}
        }

        pub fn write_body(&mut self, _: &[u8]) -> Result<(), HttpError> {
            match self.0 {}
        }

        pub fn finish(&mut self) -> Result<(), HttpError> {
            match self.0 {}
        }

        pub fn request_writable(&mut self) {
            match self.0 {}
        }

        pub fn pause_body(&mut self, _: bool) {
            match self.0 {}
        }

        pub fn response_done(&self) -> bool {
            match self.0 {}
        }

        pub fn cancel(&mut self) {
            match self.0 {}
        }
    }
}
