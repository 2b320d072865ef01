"""``national-source-sim``: run the verification-source simulator and look at its register.

::

    national-source-sim serve [--host 127.0.0.1] [--port 8010] [--workers 2]
    national-source-sim people [--limit N] [--demo]
    national-source-sim generate --out PATH [--seed S] [--count N]

Exit codes: 0 success, 2 bad arguments, 78 configuration that cannot work.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from national_source.config import SourceConfigError, load_settings
from national_source.register import (
    DEFAULT_COUNT,
    DEFAULT_SEED,
    Register,
    RegisterError,
    dump_register,
    generate_register,
)

EX_CONFIG = 78


def _serve(args: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication

    from idp.realname.masking import RedactingFilter
    from national_source import create_app

    app = create_app()
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s")
    )
    # The simulator never logs numbers itself; the filter keeps it so if a library ever does.
    handler.addFilter(RedactingFilter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])

    class Server(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{args.host}:{args.port}",
                "workers": args.workers,
                "worker_class": "sync",
                # Longer than the largest delay switch (60 s), so a slow answer is not killed.
                "timeout": 90,
                "graceful_timeout": 3,
                "errorlog": "-",
                "loglevel": "info",
                "proc_name": "national-source-sim",
            }
            # Newer gunicorn opens a control socket at a fixed per-user path; several simulators (tests)
            # or other gunicorn apps on one machine would fight over it, and nothing here uses it.
            if "control_socket_disable" in self.cfg.settings:
                options["control_socket_disable"] = True
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    Server().run()
    return 0


def _people(args: argparse.Namespace) -> int:
    settings = load_settings()
    register = Register.load(Path(settings.register))
    people = [p for p in register.people.values() if p.demo or not args.demo]
    # Synthetic people only: printing their generated numbers in full is the point of this command.
    print("姓名\t性别\t出生日期\t证件号码\t有效期\t演示")
    for person in people[: args.limit]:
        validity = f"{person.valid_from}~{person.valid_to or '长期'}"
        gender = "男" if person.gender == "male" else "女"
        row = (person.name, gender, person.birth_date, person.id_number, validity, "*" if person.demo else "")
        print("\t".join(row))
    return 0


def _generate(args: argparse.Namespace) -> int:
    text = dump_register(generate_register(args.seed, args.count), args.seed)
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {args.count} synthetic people (plus demo people) to {args.out}")
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError("must be at most 65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="national-source-sim", description="Simulator of the national real-name verification source."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8010)
    serve.add_argument("--workers", type=_positive, default=2)
    serve.set_defaults(handler=_serve)
    people = sub.add_parser("people", help="list the synthetic people of the register")
    people.add_argument("--limit", type=_positive, default=20)
    people.add_argument("--demo", action="store_true", help="only the fixed demo people")
    people.set_defaults(handler=_people)
    generate = sub.add_parser("generate", help="write a register file")
    generate.add_argument("--out", required=True)
    generate.add_argument("--seed", default=DEFAULT_SEED)
    generate.add_argument("--count", type=_positive, default=DEFAULT_COUNT)
    generate.set_defaults(handler=_generate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except (SourceConfigError, RegisterError) as exc:
        print(f"national-source-sim: {exc}", file=sys.stderr)
        return EX_CONFIG
    except OSError as exc:
        print(f"national-source-sim: {exc.strerror or exc}", file=sys.stderr)
        return EX_CONFIG
    return code


if __name__ == "__main__":
    sys.exit(main())
