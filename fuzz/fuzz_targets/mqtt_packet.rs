//! The MQTT decoder on arbitrary bytes at an arbitrary split: it must never
//! panic, and whatever it accepts must encode back to bytes that decode to
//! the same packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_role_mqtt::proto::{Decoder, encode};

fuzz_target!(|data: &[u8]| {
    let Some((&cut, data)) = data.split_first() else {
        return;
    };
    let cut = usize::from(cut).min(data.len());
    let mut d = Decoder::new(4096);
    d.feed(&data[..cut]);
    let mut packets = Vec::new();
    let mut failed = false;
    loop {
        match d.next_packet() {
            Ok(Some(p)) => packets.push(p),
            Ok(None) => break,
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    if !failed {
        d.feed(&data[cut..]);
        while let Ok(Some(p)) = d.next_packet() {
            packets.push(p);
        }
    }
    for p in packets {
        let mut bytes = Vec::new();
        encode(&p, &mut bytes).expect("a decoded packet encodes");
        let mut again = Decoder::new(1 << 20);
        again.feed(&bytes);
        assert_eq!(again.next_packet(), Ok(Some(p)));
    }
});
