"""The functions' stdout in the local stack: every line goes to the log file, and a function's
lines also to its CloudWatch Logs group (/aws/lambda/{FunctionName}), as Lambda delivers them, so
`snaprace logs` reads them the same way here and on AWS. The endpoint's own request log keeps what
the deployed API's access log keeps: no client address, no query string (names, cursors), no bib."""

import io
import re
import threading
import time

from werkzeug.serving import WSGIRequestHandler

from snaprace.local import functions

_BIB_IN_PATH = re.compile(r"/bibs/[^/?]+")


class PrivateRequestLog(WSGIRequestHandler):
    """werkzeug's request log without the address, the query string, or the bib searched. The
    address still reaches the request (REMOTE_ADDR, which werkzeug takes from address_string):
    the API reports it as sourceIp."""

    _logging = False

    def address_string(self) -> str:
        return "-" if self._logging else super().address_string()

    def log(self, type: str, message: str, *args) -> None:  # noqa: A002 - werkzeug's signature
        self._logging = True
        try:
            super().log(type, message, *args)
        finally:
            self._logging = False

    def log_request(self, code="-", size="-") -> None:
        path = _BIB_IN_PATH.sub("/bibs/{bib}", getattr(self, "path", "").split("?", 1)[0])  # none: bad line
        self.log("info", '"%s %s" %s', self.command, path, getattr(code, "value", code))


class FunctionLogs(io.TextIOBase):
    def __init__(self, file, account: str, region: str, meter=None):
        self.file, self.account, self.region, self.meter = file, account, region, meter
        self._lock = threading.Lock()  # moto's log streams are not thread safe

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.file.write(text)
        function_name = getattr(functions.current, "function_name", None)
        if function_name and text.strip():
            self._deliver(function_name, text.rstrip("\n"))
            if self.meter is not None:  # CloudWatch Logs bills each event's bytes plus 26
                self.meter.logged(len(text.rstrip("\n").encode()) + 26)
        return len(text)

    def flush(self) -> None:
        self.file.flush()

    def _deliver(self, function_name: str, message: str) -> None:
        from moto.logs.models import logs_backends

        backend = logs_backends[self.account][self.region]
        group, stream = f"/aws/lambda/{function_name}", time.strftime("%Y/%m/%d/[$LATEST]local")
        with self._lock:
            if group not in backend.groups:
                backend.create_log_group(group, tags={})
            backend.ensure_log_stream(group, stream)
            backend.put_log_events(
                group, stream, [{"timestamp": int(time.time() * 1000), "message": message}]
            )
