"""Document renderers for recognition decisions and certificates (pure rendering).

- :mod:`.snapshot` — what a decision shows (:class:`~.snapshot.DecisionDoc`),
  built from a :class:`~recognition.models.Decision` with one query for its
  annex, plus the text rules of Nghị định 30/2020 (RULES.md §6.2): "05/QĐ-UBND",
  "ngày 05 tháng 01 năm 2026", the endings of căn cứ and nơi nhận lines.
- :mod:`.decision_pdf` — the decision PDF: the body by WeasyPrint from
  ``templates/recognition/decision/document.html`` (the same template serves
  the live HTML preview), the annex by ReportLab (:mod:`.annex`), merged with
  pypdf; and the HTML preview.
- :mod:`.certificates` — Giấy công nhận, one A4 landscape page each, with a QR
  code to the public verification page.
- :mod:`.fonts` — the shipped Liberation Serif for both renderers.

Nothing here touches the database except :func:`.snapshot.decision_doc_from`.
"""
