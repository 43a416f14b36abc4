"""Personal data under Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15 (in force since 01/01/2026).

One module per job: ``crypto`` (encryption and blind index of ID numbers),
``fields`` (the model field that uses them), ``policy`` (which roles see full ID
numbers), ``access_log`` (who viewed or exported personal data), ``subject_export``
(a person's data on request), ``erasure`` (erasing it, keeping the legal record
anonymised), ``retention`` (deleting what is no longer needed), ``rotation``
(re-encrypting under a new key).
"""
