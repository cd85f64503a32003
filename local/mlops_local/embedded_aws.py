"""The embedded AWS: moto's server in this process, and the environment that points boto3 at it.

boto3 honours AWS_ENDPOINT_URL, so code that builds its clients the ordinary way (the Lambda functions
included) talks to the embedded AWS without a local-only code path. Everything set here is put back
exactly on exit.
"""

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import TracebackType

import boto3
import botocore.loaders
import botocore.session
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from mlops_local.aws_requests import AwsRequestLayer
from mlops_local.environment import patched_environ, quiet_logger

ACCOUNT_ID = DEFAULT_ACCOUNT_ID
SHUTDOWN_POLL_SECONDS = 0.02
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# A profile could bring real credentials or endpoints, a per-service endpoint variable would win over
# AWS_ENDPOINT_URL, and this one switches AWS_ENDPOINT_URL off.
# botocore reads a service's model files each time a new session creates its first client of that service;
# sharing the loader (a read-only cache of those files) keeps that to once per process.
_SERVICE_MODELS = botocore.loaders.create_loader()
_UNSAFE_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")


class EmbeddedAws:
    """moto's ThreadedMotoServer on a free loopback port, with fresh (reset) backends."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.account_id = ACCOUNT_ID
        self.endpoint_url = ""
        self.requests: AwsRequestLayer  # what reaches the server, recorded and failed on demand
        self._exit_stack = ExitStack()

    def __enter__(self) -> "EmbeddedAws":
        with ExitStack() as stack:
            moto_api_backend.reset()  # moto's backends are process-wide: forget the previous cloud
            stack.enter_context(quiet_logger("werkzeug"))  # the server logs every request
            stack.enter_context(service_models_shared())
            server = _MotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self.requests = server.requests
            server.start()
            stack.callback(server.stop)
            host, port = server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
            stack.enter_context(patched_environ(self._environment(), unset=self._variables_to_unset()))
            self._exit_stack = stack.pop_all()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._exit_stack.close()

    def _environment(self) -> dict[str, str]:
        no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            **FAKE_CREDENTIALS,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "NO_PROXY": no_proxy,  # a configured HTTP proxy must not see loopback calls
        }

    @staticmethod
    def _variables_to_unset() -> list[str]:
        per_service_endpoints = [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL_")]
        return [*_UNSAFE_VARIABLES, *per_service_endpoints]

    def session(self) -> boto3.Session:
        """A boto3 session for the embedded AWS (clients get the endpoint from AWS_ENDPOINT_URL)."""
        return boto3.Session(
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            region_name=self.region,
        )


@contextmanager
def service_models_shared() -> Iterator[None]:
    """Every botocore session made meanwhile reads the service models through one loader: the tests'
    and each function's (a function's clients come from a session of its own, as in Lambda, where each
    function's process reads the models once per cold start; here the functions share one process and
    would read them again for every local cloud, about 30 ms of CPU per client)."""
    create_loader = botocore.session.create_loader

    def shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        return _SERVICE_MODELS if search_path_string is None else create_loader(search_path_string)

    botocore.session.create_loader = shared_loader
    try:
        yield
    finally:
        botocore.session.create_loader = create_loader


class _MotoServer(ThreadedMotoServer):
    """moto's threaded server, checking for a stop request every 20 ms instead of every 500 ms.

    Stopping a server waits for its next check, and every LocalCloud stops one. Requests pass through
    an `AwsRequestLayer`, which records them and fails them on demand.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.requests = AwsRequestLayer(DomainDispatcherApplication(create_backend_app))

    def _server_entry(self) -> None:
        app = self.requests
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=SHUTDOWN_POLL_SECONDS)
