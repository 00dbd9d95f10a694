"""`convcli explore --serve`: the explorer in a browser tab, through textual-serve (``pip install 'convcli[web]'``).

Each browser tab that connects starts its own ``convcli explore`` (the same options, less the serving ones)
under Textual's web driver; the server relays its screen and keys. Stopping the server stops them.
"""

from __future__ import annotations

import shlex
import sys

from convcli.core.errors import ConvcliError

SERVING = ("--serve", "--port", "--host")  # the options that serve; the served command is the rest


def served_command(argv: list[str]) -> str:
    """The shell command each tab runs: this Python, ``-m convcli``, and ``argv`` without the serving options."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in SERVING:
            skip = name != "--serve" and "=" not in arg  # --port 8000: the value is the next word
            continue
        kept.append(arg)
    return "exec " + shlex.join([sys.executable, "-m", "convcli", *kept])  # exec: no shell left between


def serve(command: str, host: str, port: int, say: list[str]) -> None:
    """Serve ``command`` at http://host:port until Ctrl-C; ``say``: the lines printed once it listens."""
    try:
        from convcli.tui._served import ExplorerServer
    except ImportError:
        raise ConvcliError("explore --serve needs textual-serve: pip install 'convcli[web]'") from None
    server = ExplorerServer(command, host, port, say)
    try:
        server.serve()
    except OSError as err:  # the port is taken, or the host is not this machine's
        import errno

        if err.errno == errno.EADDRINUSE:
            raise ConvcliError(f"port {port} is in use on {host}: give another --port") from None
        reason = str(err.strerror or err).rsplit(": ", 1)[-1]
        raise ConvcliError(f"cannot listen on {host}:{port}: {reason}; check --host and --port") from None


def exit_with_server() -> None:
    """In a served tab: end this explorer if the server dies without telling it (killed outright), which
    textual-serve does not notice: a daemon thread watches for the parent process to change."""
    import os
    import threading
    import time

    server = os.getppid()

    def watch() -> None:
        while os.getppid() == server:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="convcli-server-watch", daemon=True).start()
