"""moto's server for the benchmarks, keeping connections open as AWS does.

    python benchmarks/moto_server.py PORT

``python -m moto.server`` answers HTTP/1.0: every request opens a new TCP
connection and a new server thread, and aiobotocore cannot reuse its pooled
connections. Against AWS it does, so that per-request cost is an artefact of
the emulator that would be charged to the worker on the shared cores. This is
the same moto application behind an HTTP/1.1 handler, without request logging.
"""

from __future__ import annotations

import os
import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


class KeepAliveHandler(MotoRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, *args: object, **kwargs: object) -> None:
        """No access log: the benchmark reads none, and writing it costs CPU per request."""


def main() -> None:
    port = int(sys.argv[1])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=KeepAliveHandler)
    server.serve_forever()


if __name__ == "__main__":
    main()
