//! One row per RFC 7692 negotiation rule (§5.1, §7.1.1, §7.1.2).

use super::*;

const DEFAULT: Policy = Policy {
    no_context_takeover: false,
    max_window_bits: 15,
};
const SMALL: Policy = Policy {
    no_context_takeover: false,
    max_window_bits: 10,
};
const RESET: Policy = Policy {
    no_context_takeover: true,
    max_window_bits: 15,
};

/// (our reset, peer reset, our bits, peer bits)
type Got = (bool, bool, u8, u8);

fn tuple(p: &DeflateParams) -> Got {
    (
        p.our_no_context_takeover,
        p.peer_no_context_takeover,
        p.our_max_window_bits,
        p.peer_max_window_bits,
    )
}

#[test]
fn rfc7692_server_negotiation_table() {
    #[rustfmt::skip]
    let rows: &[(&str, Policy, &str, Got)] = &[
        // §7.1.2.2: client_max_window_bits without a value, no limit of ours: not answered.
        ("permessage-deflate; client_max_window_bits", DEFAULT,
         "permessage-deflate", (false, false, 15, 15)),
        // No client_max_window_bits offered: the response must not carry it.
        ("permessage-deflate", SMALL,
         "permessage-deflate; server_max_window_bits=10", (false, false, 10, 15)),
        // Offered without a value: we limit the client to our window.
        ("permessage-deflate; client_max_window_bits", SMALL,
         "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10", (false, false, 10, 10)),
        // Offered with a value: the smaller of the two.
        ("permessage-deflate; client_max_window_bits=9", SMALL,
         "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9", (false, false, 10, 9)),
        ("permessage-deflate; client_max_window_bits=12", SMALL,
         "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10", (false, false, 10, 10)),
        ("permessage-deflate; client_max_window_bits=12", DEFAULT,
         "permessage-deflate; client_max_window_bits=12", (false, false, 15, 12)),
        // §7.1.2.1: server_max_window_bits=N answered with a value <= N.
        ("permessage-deflate; server_max_window_bits=10", DEFAULT,
         "permessage-deflate; server_max_window_bits=10", (false, false, 10, 15)),
        ("permessage-deflate; server_max_window_bits=12", SMALL,
         "permessage-deflate; server_max_window_bits=10", (false, false, 10, 15)),
        // 8 bits: accepted as offered; we then send uncompressed (zlib cannot).
        ("permessage-deflate; server_max_window_bits=8", DEFAULT,
         "permessage-deflate; server_max_window_bits=8", (false, false, 8, 15)),
        // §7.1.1.1 / §7.1.1.2: no context takeover, offered or wanted.
        ("permessage-deflate; server_no_context_takeover; client_no_context_takeover", DEFAULT,
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover", (true, true, 15, 15)),
        ("permessage-deflate; client_max_window_bits", RESET,
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover", (true, true, 15, 15)),
        // §5.1: the first acceptable offer wins.
        ("permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits", SMALL,
         "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10", (false, false, 10, 10)),
        ("x-webkit-deflate-frame, permessage-deflate", DEFAULT,
         "permessage-deflate", (false, false, 15, 15)),
    ];
    for (offer, policy, resp, want) in rows {
        let (p, r) = negotiate_server(Some(offer), *policy).expect(offer);
        assert_eq!(r, *resp, "{offer} {policy:?}");
        assert_eq!(tuple(&p), *want, "{offer} {policy:?}");
    }
}

#[test]
fn rfc7692_server_declines_invalid_offers() {
    for bad in [
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=09",
        "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; bogus",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_no_context_takeover=1",
        "x-webkit-deflate-frame",
        "",
    ] {
        assert_eq!(negotiate_server(Some(bad), DEFAULT), None, "{bad}");
    }
    assert_eq!(negotiate_server(None, DEFAULT), None);
}

#[test]
fn rfc7692_client_offer_follows_the_policy() {
    assert_eq!(
        client_offer(DEFAULT),
        "permessage-deflate; client_max_window_bits"
    );
    assert_eq!(
        client_offer(SMALL),
        "permessage-deflate; client_max_window_bits=10; server_max_window_bits=10"
    );
    assert_eq!(
        client_offer(RESET),
        "permessage-deflate; client_max_window_bits; client_no_context_takeover; server_no_context_takeover"
    );
}

#[test]
fn rfc7692_client_response_table() {
    #[rustfmt::skip]
    let ok: &[(&str, Policy, Option<Got>)] = &[
        ("", DEFAULT, None),
        ("permessage-deflate", DEFAULT, Some((false, false, 15, 15))),
        // §7.1.2.2: the server may limit a client that offered the parameter.
        ("permessage-deflate; client_max_window_bits=9", DEFAULT, Some((false, false, 9, 15))),
        ("permessage-deflate; client_max_window_bits=8", DEFAULT, Some((false, false, 8, 15))),
        // §7.1.2.1: the server may announce its window unasked.
        ("permessage-deflate; server_max_window_bits=11", DEFAULT, Some((false, false, 15, 11))),
        ("permessage-deflate; server_max_window_bits=9; client_max_window_bits=10", SMALL,
         Some((false, false, 10, 9))),
        // Response without client_max_window_bits: we keep our offered limit.
        ("permessage-deflate; server_max_window_bits=10", SMALL, Some((false, false, 10, 10))),
        ("permessage-deflate; server_no_context_takeover; client_no_context_takeover", DEFAULT,
         Some((true, true, 15, 15))),
        ("permessage-deflate; server_no_context_takeover", RESET, Some((true, true, 15, 15))),
    ];
    for (resp, policy, want) in ok {
        let got = accept_client(resp, *policy).expect(resp);
        assert_eq!(got.as_ref().map(tuple), *want, "{resp} {policy:?}");
    }
    #[rustfmt::skip]
    let bad: &[(&str, Policy)] = &[
        // RFC 6455 §4.1: an extension that was not offered fails the connection.
        ("x-webkit-deflate-frame", DEFAULT),
        ("permessage-deflate, x-foo", DEFAULT),
        ("permessage-deflate, permessage-deflate", DEFAULT),
        ("permessage-deflate; bogus", DEFAULT),
        // §7.1.2.1: server_max_window_bits must be answered, and not above the offer.
        ("permessage-deflate", SMALL),
        ("permessage-deflate; server_max_window_bits=11", SMALL),
        // §7.1.2.2: a value is required in a response, and not above the offer.
        ("permessage-deflate; client_max_window_bits", DEFAULT),
        ("permessage-deflate; server_max_window_bits=10; client_max_window_bits=11", SMALL),
        // §7.1.1.1: an offered server_no_context_takeover must be accepted.
        ("permessage-deflate", RESET),
    ];
    for (resp, policy) in bad {
        assert!(accept_client(resp, *policy).is_err(), "{resp} {policy:?}");
    }
}
