"""The shipped Liberation Serif (Times New Roman metrics, full Vietnamese) for
both renderers — never a system font, so no glyph is dropped or substituted.

- ReportLab: the four faces registered once per process as the family
  ``XHHTSerif`` (:func:`register_reportlab_fonts`).
- WeasyPrint: ``@font-face`` rules with ``file://`` URLs for the PDF and with
  static URLs for the browser preview (:func:`font_face_css`); the
  ``FontConfiguration`` and the parsed stylesheets are built once per process
  and reused, because loading the fonts is most of a one-page render.
"""

from __future__ import annotations

import atexit
import logging
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from weasyprint import CSS

FONT_DIR = ("fonts", "liberation-serif")
FAMILY = "XHHTSerif"

#: (file stem, ReportLab face name, CSS weight, CSS style)
FACES: tuple[tuple[str, str, str, str], ...] = (
    ("LiberationSerif-Regular", FAMILY, "normal", "normal"),
    ("LiberationSerif-Bold", f"{FAMILY}-Bold", "bold", "normal"),
    ("LiberationSerif-Italic", f"{FAMILY}-Italic", "normal", "italic"),
    ("LiberationSerif-BoldItalic", f"{FAMILY}-BoldItalic", "bold", "italic"),
)

REGULAR = FAMILY
BOLD = f"{FAMILY}-Bold"
ITALIC = f"{FAMILY}-Italic"
BOLD_ITALIC = f"{FAMILY}-BoldItalic"

_lock = threading.Lock()
#: Serialises WeasyPrint renders within one process (it is not thread-safe).
WEASYPRINT_LOCK = threading.RLock()


def font_path(stem: str) -> Path:
    return Path(settings.BASE_DIR, "static", *FONT_DIR, f"{stem}.ttf")


@cache
def register_reportlab_fonts() -> str:
    """Register the four faces with ReportLab (once) and return the family name."""
    from reportlab import rl_config
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    # Streams are Flate-compressed; ReportLab would also ASCII85-encode them,
    # which costs ~0.6 s on a 240-page annex (pure Python) and 25 % more bytes.
    rl_config.useA85 = 0

    for stem, name, weight, style in FACES:
        pdfmetrics.registerFont(TTFont(name, str(font_path(stem))))
        addMapping(FAMILY, int(weight == "bold"), int(style == "italic"), name)
    return FAMILY


def font_face_css(*, for_browser: bool) -> str:
    """``@font-face`` rules for the family: static URLs or ``file://`` URLs."""
    rules = []
    for stem, _name, weight, style in FACES:
        if for_browser:
            from django.templatetags.static import static

            url = static("/".join((*FONT_DIR, f"{stem}.ttf")))
        else:
            url = font_path(stem).as_uri()
        rules.append(
            f'@font-face {{ font-family: "{FAMILY}"; src: url("{url}") format("truetype"); '
            f"font-weight: {weight}; font-style: {style}; }}"
        )
    return "\n".join(rules)


def document_css_path() -> Path:
    return Path(settings.BASE_DIR, "static", "css", "decision-document.css")


class _OnceFilter(logging.Filter):
    """Let a message starting with ``prefix`` through once per process."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix
        self.seen = False

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(self.prefix):
            return True
        if self.seen:
            return False
        self.seen = True
        return True


_weasy: dict[str, Any] = {}


def weasyprint_resources() -> tuple[Any, list[CSS]]:
    """(FontConfiguration, [font-face CSS, document CSS]) built once per process."""
    with _lock:
        if not _weasy:
            from weasyprint import CSS
            from weasyprint.text.fonts import FontConfiguration

            # fontTools logs every table it subsets at INFO, and WeasyPrint warns
            # at every render that it subsets with fontTools (HarfBuzz-Subset is
            # a system library it looks for): keep the job logs readable.
            logging.getLogger("fontTools").setLevel(logging.WARNING)
            logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
            logging.getLogger("weasyprint").addFilter(_OnceFilter("Using fontTools instead"))
            config = FontConfiguration()
            faces = CSS(string=font_face_css(for_browser=False), font_config=config)
            document = CSS(filename=str(document_css_path()), font_config=config)
            _weasy["config"] = config
            _weasy["sheets"] = [faces, document]
            # Drop them before interpreter shutdown (FontConfiguration.__del__
            # fails once its modules are torn down).
            atexit.register(_weasy.clear)
        return _weasy["config"], list(_weasy["sheets"])
