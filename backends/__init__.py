"""Backends: where a job's detection runs.

A backend is deliberately small. The consumer calls :meth:`Backend.process`
for each job; a backend that finishes the job in place returns it as
:class:`Completed` (the consumer writes it, then deletes the message), one that hands the
job off returns ``None`` once the hand-off is durable (the message is deleted and
the result is written later by :meth:`Backend.serve`'s background work).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar

from locdetect_worker.results import ResultDocument

if TYPE_CHECKING:
    from locdetect_worker.aws import AwsClients
    from locdetect_worker.config import Settings
    from locdetect_worker.jobs import Job
    from locdetect_worker.metrics import JobMetrics
    from locdetect_worker.storage import ResultStore


@dataclass(frozen=True)
class Completed:
    """A job finished in place: the document to write and its overlay picture."""

    document: ResultDocument
    overlay_png: bytes | None = None


class Backend(abc.ABC):
    name: ClassVar[str]

    def __init__(self, settings: Settings, clients: AwsClients, store: ResultStore) -> None:
        self.settings = settings
        self.clients = clients
        self.store = store
        # Set by the daemon: one EMF record per result a backend writes itself.
        self.metrics: JobMetrics | None = None

    async def __aenter__(self) -> Backend:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    @abc.abstractmethod
    async def process(self, job: Job) -> Completed | None:
        """Run or hand off one job.

        Raise :class:`~locdetect_worker.errors.JobError` for a permanent failure
        (the caller writes a failed result); any other exception is transient
        (the message is retried).
        """

    async def serve(self) -> None:
        """Background work that completes handed-off jobs; runs until cancelled."""
        return None


def create_backend(settings: Settings, clients: AwsClients, store: ResultStore) -> Backend:
    if settings.backend == "sagemaker":
        from backends.sagemaker import SageMakerBackend

        return SageMakerBackend(settings, clients, store)
    from backends.local import LocalBackend

    return LocalBackend(settings, clients, store)
