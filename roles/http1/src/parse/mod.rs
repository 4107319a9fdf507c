//! Pure HTTP/1.1 parsers and serializers: bytes in, typed values out, no sockets.
