"""Environment access for settings: every secret and endpoint comes from here.

A secret ``NAME`` (see ``SECRET_VARIABLES``) may also be given as ``NAME_FILE``
(a path whose content is the value), the usual way secrets are mounted in
containers.
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

#: Variables that may be given as ``NAME_FILE``. Only these are read: other
#: ``*_FILE`` variables of the process (``SSL_CERT_FILE`` …) are not ours.
SECRET_VARIABLES = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_HOST_PASSWORD",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
)

for _name in SECRET_VARIABLES:
    _file = os.environ.get(f"{_name}_FILE")
    if _file and _name not in os.environ and Path(_file).is_file():
        os.environ[_name] = Path(_file).read_text(encoding="utf-8").strip()
