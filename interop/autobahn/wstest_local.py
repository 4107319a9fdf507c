"""Run Autobahn's wstest with every listener bound to 127.0.0.1.

autobahntestsuite 0.8.2 binds its fuzzingserver (and web UI) to all
interfaces; this wrapper pins them to loopback before handing over to
wstest's own entry point.
"""
import sys

import autobahn.twisted.websocket as websocket
from twisted.internet import reactor

_listen_ws = websocket.listenWS
_listen_tcp = reactor.listenTCP


def listen_ws_local(factory, contextFactory=None, backlog=50, interface=''):
    return _listen_ws(factory, contextFactory, backlog, '127.0.0.1')


def listen_tcp_local(port, factory, backlog=50, interface=''):
    return _listen_tcp(port, factory, backlog, '127.0.0.1')


websocket.listenWS = listen_ws_local
reactor.listenTCP = listen_tcp_local

import autobahntestsuite.fuzzing as fuzzing  # noqa: E402

fuzzing.listenWS = listen_ws_local

from autobahntestsuite.wstest import run  # noqa: E402

if __name__ == '__main__':
    sys.exit(run())
