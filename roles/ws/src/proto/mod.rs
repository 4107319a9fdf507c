//! Pure WebSocket protocol pieces: framing, masking, UTF-8, close codes, handshake keys, permessage-deflate. No sockets.
