"""Environment access for settings: every secret and endpoint comes from here.

A variable ``NAME`` may also be given as ``NAME_FILE`` (a path whose content is
the value), the usual way secrets are mounted in containers.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

_dotenv = BASE_DIR / ".env"
if _dotenv.exists():
    environ.Env.read_env(str(_dotenv), overwrite=False)

for _name in list(os.environ):
    if _name.endswith("_FILE") and _name[:-5] not in os.environ:
        _path = Path(os.environ[_name])
        if _path.is_file():
            os.environ[_name[:-5]] = _path.read_text(encoding="utf-8").strip()
