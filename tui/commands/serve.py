"""``nnview serve [FILE]``: the explorer in a web browser, served by textual-serve; this machine only by default.

Every argument of ``nnview FILE`` is checked here first, with the same messages, and then handed as it was
typed to ``python -m tui`` — the command textual-serve starts for each browser tab. textual-serve runs that
command through a shell, so it is built with :func:`shlex.join`, never by pasting user text into a string.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import shlex
import socket
import sys
from collections.abc import Sequence

from tui.commands.arguments import Parser, bundled_model, parse, report_error
from tui.commands.explore import explorer_parser
from tui.core.records import ErrorRecord, NnviewError

INSTALL = 'pip install -e ".[serve]" (the textual-serve package)'
DEFAULT_PORT = 8000
LOOPBACK = "127.0.0.1"
SERVE_ONLY = ("--port", "--host")  # the options the explorer itself does not take
SERVED_DRIVER = "tui.serve_driver:ServedDriver"
TUNNEL = "ssh -L {port}:localhost:{port} gpu-box, then open http://localhost:{port}"


def serve_parser() -> Parser:
    """The parser for ``nnview serve``: every option of ``nnview [FILE]``, plus ``--port`` and ``--host``."""
    parser = explorer_parser()
    parser.prog = "nnview serve"
    parser.allow_abbrev = False  # `--po` would be nnview's to expand, not ours: the explorer gets what was typed
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the ssh line whole
    parser.description = (
        "Serve the explorer to a web browser, one explorer per tab, with the same FILE and\n"
        'options as `nnview FILE`. Needs the textual-serve package: pip install -e ".[serve]".'
    )
    parser.epilog = (
        f"It listens on {LOOPBACK} only: other machines cannot reach it. To use it from your\n"
        "own computer, tunnel it over SSH (gpu-box: the machine nnview serve runs on):\n"
        f"  {TUNNEL.format(port=DEFAULT_PORT)}"
    )
    parser.add_argument(
        "--port", default=str(DEFAULT_PORT), metavar="P", help=f"the port to listen on ({DEFAULT_PORT})"
    )
    parser.add_argument(
        "--host",
        default=LOOPBACK,
        help=(
            f"the address to listen on ({LOOPBACK}: this machine only). --host 0.0.0.0 listens on every network: "
            "anyone who can reach the machine can use the explorer, which runs the model file's code"
        ),
    )
    return parser


def run_serve(argv: Sequence[str]) -> int:
    """``nnview serve``: check everything, then serve until Ctrl+C; exit 2 (before serving) for a user error."""
    from tui.core.load.model_refs import parse_model_ref

    try:
        args = parse(serve_parser(), argv)
        model_ref = args.model or bundled_model()
        parse_model_ref(model_ref)
        port = check_port(args.port)
        check_can_listen(args.host, port)
        require_textual_serve()
    except NnviewError as exc:
        return report_error(exc.record, False)
    from tui.serve_server import ExplorerServer

    command = explorer_command(argv)
    local = is_loopback(args.host)
    server = ExplorerServer(command, host=args.host, port=port, title=f"nnview {model_ref}", local=local)
    _print_start(model_ref, args.host, port, local)
    try:
        server.serve()
    except OSError as exc:  # taken between the check and the bind
        return report_error(_listen_error(args.host, port, exc), False)
    return 0


def explorer_arguments(argv: Sequence[str]) -> list[str]:
    """``argv`` as typed, less ``--port``/``--host`` and their values: what ``nnview FILE`` gets."""
    out: list[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token == "--":  # the rest is positional, even if it looks like --port
            out += [token, *tokens]
            break
        if token in SERVE_ONLY:
            next(tokens, None)
        elif not token.startswith(tuple(f"{flag}=" for flag in SERVE_ONLY)):
            out.append(token)
    return out


def explorer_command(argv: Sequence[str]) -> str:
    """The shell command textual-serve runs per browser tab: this Python's ``-m tui`` with the explorer's args,
    drawing through :class:`tui.serve_driver.ServedDriver` (a fixed ``NAME=value`` prefix, which the shell
    puts in that command's environment over textual-serve's own ``TEXTUAL_DRIVER``)."""
    return f"TEXTUAL_DRIVER={SERVED_DRIVER} " + shlex.join([sys.executable, "-m", "tui", *explorer_arguments(argv)])


def check_port(text: str) -> int:
    """``--port`` as a number from 1 to 65535.

    Raises:
        NnviewError: kind ``input`` for anything else.
    """
    port = int(text) if text.isascii() and text.isdigit() else 0
    if not 1 <= port <= 65535:
        raise NnviewError(
            ErrorRecord(
                kind="input",
                message=f"--port {text!r}: a port is a whole number from 1 to 65535",
                hint=f"pass e.g. --port {DEFAULT_PORT}",
            )
        )
    return port


def require_textual_serve() -> None:
    """Raise a clear error naming the extra to install when textual-serve is missing.

    Raises:
        NnviewError: kind ``input``.
    """
    try:
        import textual_serve.server  # noqa: F401 - importing it is the check
    except ImportError as exc:
        raise NnviewError(
            ErrorRecord(
                kind="input",
                message="`nnview serve` needs the textual-serve package, which is not installed",
                hint=f"install it: {INSTALL}",
            )
        ) from exc


def check_can_listen(host: str, port: int) -> None:
    """Bind (and let go of) every address ``host`` names, as the server will, so a taken port is refused now.

    Raises:
        NnviewError: kind ``input``, naming ``--port`` or ``--host``.
    """
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in addresses:
            with socket.socket(family, kind, proto) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp: TIME_WAIT is no clash
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
    except OSError as exc:
        raise NnviewError(_listen_error(host, port, exc)) from None


def _listen_error(host: str, port: int, exc: OSError) -> ErrorRecord:
    """What to say when nnview cannot listen on ``host:port``."""
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return ErrorRecord(
            kind="input",
            message=f"--host {host!r} is not an address of this machine ({exc.strerror or exc})",
            hint=f"leave --host out ({LOOPBACK}: this machine only; tunnel over SSH), or pass --host 0.0.0.0",
        )
    if exc.errno == errno.EADDRINUSE:
        message = f"port {port} on {host} is already in use by another program"
        hint = f"pick a free port with --port, e.g. --port {port + 1 if port < 65535 else DEFAULT_PORT}"
    elif exc.errno == errno.EACCES:
        message = f"may not listen on port {port}: ports below 1024 need root"
        hint = f"pick a port from 1024 up with --port, e.g. --port {DEFAULT_PORT}"
    else:
        message = f"cannot listen on {host} port {port}: {exc.strerror or exc}"
        hint = f"pick another port with --port (e.g. --port {DEFAULT_PORT}), or check --host"
    return ErrorRecord(kind="input", message=message, hint=hint)


def _print_start(model_ref: str, host: str, port: int, local: bool) -> None:
    """Where to point the browser, who can reach it, and how to tunnel it."""
    shown = f"[{host}]" if ":" in host else host
    print(f"nnview serve: the explorer on {model_ref} at http://{shown}:{port}", flush=True)
    if local:
        print(f"  listening on {host} only: other machines cannot reach it. From your own computer:", flush=True)
        print(f"  {TUNNEL.format(port=port)}", flush=True)
    else:
        print(
            f"warning: --host {host} listens beyond this machine: anyone who can reach it on port {port} can use "
            "the explorer, which runs the model file's code, with no password. Prefer the default "
            f"({LOOPBACK}) and an SSH tunnel: {TUNNEL.format(port=port)}",
            file=sys.stderr,
            flush=True,
        )
    print("  each browser tab runs its own explorer; Ctrl+C stops the server", flush=True)


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is this machine's loopback (127.0.0.0/8, ::1)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)
