"""moto's server for the benchmarks, keeping connections open as AWS does.

    python benchmarks/moto_server.py PORT

``python -m moto.server`` runs on werkzeug's development server, which closes
the connection after every response and starts a thread per request, so
aiobotocore cannot reuse its pooled connections as it does against AWS. That
per-request cost is an artefact of the emulator, and here it lands on the cores
the worker is measured on. This is the same moto application served by
waitress: persistent HTTP/1.1 connections and a fixed pool of threads.

moto's dispatcher also lists its own package directory (an ``isdir`` per AWS
service, some 170) on every request to pick the service; the listing cannot
change while the server runs, so it is read once. That cut moto's CPU per
request by about 40% (S3 put/get/head and SQS send/receive/delete rounds).
"""

from __future__ import annotations

import os
import sys

from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from waitress import serve


def main() -> None:
    moto_modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: moto_modules
    port = int(sys.argv[1])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    serve(app, host="127.0.0.1", port=port, threads=8, _quiet=True)


if __name__ == "__main__":
    main()
