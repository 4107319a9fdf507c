//! A client handler that sends one long text message with far-apart
//! repeats and checks its echo, and a runner that connects it to a URL.

use lws_role_ws::client::{self, ClientOptions};
use lws_role_ws::{Message, WsConfig, WsCx, WsEvent, WsHandler};

use super::{handler, run_client};

/// Client handler: on open sends `payload()` (text), closes after the
/// echo; records what happened.
#[derive(Default)]
pub struct Probe {
    pub compression: Option<bool>,
    pub echo_ok: bool,
    pub closed: Option<u16>,
    pub error: Option<String>,
}

/// Text with repeats 8 KiB apart: beyond a small window, so the window
/// each side negotiated shapes what its compressor emits.
pub fn payload() -> String {
    let block: String = (0..8192u32)
        .map(|i| char::from(b'a' + (i.wrapping_mul(2_654_435_761) >> 27) as u8 % 26))
        .collect();
    block.repeat(4)
}

impl WsHandler for Probe {
    type Session = ();
    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, _: &mut (), ev: WsEvent<'_>) {
        match ev {
            WsEvent::Established => {
                self.compression = Some(cx.compression());
                if cx.send_text(&payload()).is_err() {
                    cx.close(1000, "");
                }
            }
            WsEvent::Message(Message::Text(t)) => {
                self.echo_ok = t == payload();
                cx.close(1000, "done");
            }
            WsEvent::Closed { code, .. } => {
                self.closed = Some(code);
                cx.conn().cx().stop();
            }
            WsEvent::ConnectError(e) => {
                self.error = Some(e.to_string());
                cx.conn().cx().stop();
            }
            _ => {}
        }
    }
}

/// Connect a [`Probe`] to `url` with `config`; returns it when the
/// connection is over.
pub fn connect_to(url: &str, config: WsConfig) -> Probe {
    let url = url.to_owned();
    let mut ctx = run_client(Probe::default(), config, None, |ctx| {
        client::connect(ctx, &url, "c", ClientOptions::default()).expect("connect");
    });
    std::mem::take(handler::<Probe>(&mut ctx))
}
