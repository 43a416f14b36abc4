"""Recognition decisions (Quyết định công nhận) and certificates (Giấy công nhận).

The format follows Nghị định 30/2020/NĐ-CP (RULES.md §6): the agency block,
"Số: 05/QĐ-UBND", the place and date line, the type name and summary, the
legal bases, the articles, the signature block (TM./KT./Q./TL./TUQ.) and the
recipients. A draft may change; issuing assigns the number (gap-free per issuer
and year, :class:`DecisionCounter`), freezes the annex and recognises every
annexed item; an issued decision never changes and is only ever revoked by a
later decision.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recognition.titles import Title


class SigningForm(models.TextChoices):
    """Phụ lục I, II.7 of NĐ 30/2020 (RULES.md §6.2, SEEN)."""

    DIRECT = "", _("Head signs directly")
    TM = "TM.", _("TM. — on behalf of the collective")
    KT = "KT.", _("KT. — deputy signing for the head")
    Q = "Q.", _("Q. — acting head")
    TL = "TL.", _("TL. — by order")
    TUQ = "TUQ.", _("TUQ. — by authorisation")


class IssuerProfile(models.Model):
    """How one issuing unit writes its decisions: agency names, symbol, signer.

    The symbol after the hyphen is set by the head of the agency (RULES.md
    §6.2: "QĐ-UBND" is conventional, others vary locally — UNCERTAIN), so it is
    data here. ``legal_bases`` are the tenant's standing căn cứ lines that every
    decision of this issuer starts from (e.g. the Law on Local Government).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.CASCADE, related_name="+")
    unit = models.OneToOneField(
        "units.AdministrativeUnit", on_delete=models.CASCADE, related_name="issuer_profile"
    )
    parent_agency = models.CharField(
        _("parent agency"), max_length=200, blank=True, help_text=_("e.g. ỦY BAN NHÂN DÂN")
    )
    agency = models.CharField(_("issuing agency"), max_length=200)
    authority = models.CharField(
        _("issuing authority"),
        max_length=200,
        help_text=_("The line above the legal bases, e.g. CHỦ TỊCH ỦY BAN NHÂN DÂN QUẬN 10."),
    )
    symbol = models.CharField(_("symbol"), max_length=32, default="QĐ-UBND")
    place_name = models.CharField(_("place name"), max_length=100)
    legal_bases = models.TextField(_("standing legal bases"), blank=True)
    signing_form = models.CharField(
        _("signing form"), max_length=8, choices=SigningForm.choices, blank=True, default="TM."
    )
    signer_collective = models.CharField(
        _("collective or head"), max_length=200, blank=True, help_text=_("e.g. ỦY BAN NHÂN DÂN")
    )
    signer_title = models.CharField(
        _("signer's position"), max_length=200, blank=True, help_text=_("e.g. CHỦ TỊCH")
    )
    signer_name = models.CharField(_("signer's name"), max_length=200, blank=True)
    recipients = models.TextField(_("recipients"), blank=True)
    executors = models.CharField(
        _("responsible for implementation"),
        max_length=500,
        blank=True,
        help_text=_("Who carries out the decision (Điều 3)."),
    )
    archive_code = models.CharField(
        _("drafting unit abbreviation"), max_length=32, blank=True, help_text=_("For “Lưu: VT, …”")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("issuer profile")
        verbose_name_plural = _("issuer profiles")

    def __str__(self) -> str:
        return self.agency


class DecisionKind(models.TextChoices):
    RECOGNITION = "recognition", _("Recognition")
    AWARD = "award", _("Award")


class DecisionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    REVOKED = "revoked", _("Revoked")


def decision_pdf_path(instance: Decision, filename: str) -> str:
    return f"decisions/{instance.tenant_id}/{instance.public_id.hex}.pdf"


class Decision(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.PROTECT, related_name="+")
    issuing_unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issuing unit"),
    )
    #: A recognition decision annexes approved assessments; an award decision
    #: (khen thưởng, campaigns) annexes approved nominations.
    kind = models.CharField(
        _("kind"), max_length=12, choices=DecisionKind.choices, default=DecisionKind.RECOGNITION
    )
    title = models.CharField(_("title"), max_length=16, choices=Title.choices, blank=True)
    scope_level = models.CharField(max_length=16, blank=True)
    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(
        _("status"), max_length=12, choices=DecisionStatus.choices, default=DecisionStatus.DRAFT
    )
    #: A revoking decision names the decision it revokes and has no annex.
    revokes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="revoked_by",
        verbose_name=_("revokes"),
    )
    # Header (RULES.md §6.2 ô 1–5)
    parent_agency = models.CharField(_("parent agency"), max_length=200, blank=True)
    agency = models.CharField(_("issuing agency"), max_length=200)
    symbol = models.CharField(_("symbol"), max_length=32)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True, editable=False)
    number_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    place_name = models.CharField(_("place name"), max_length=100)
    issued_on = models.DateField(_("date"), null=True, blank=True)
    summary = models.CharField(_("summary"), max_length=500)
    authority = models.CharField(_("issuing authority"), max_length=200)
    # Body
    legal_bases = models.TextField(_("legal bases"), help_text=_("One basis per line."))
    articles = models.JSONField(_("articles"), default=list)
    # Signature and recipients (ô 7, 9)
    signing_form = models.CharField(
        _("signing form"), max_length=8, choices=SigningForm.choices, blank=True
    )
    signer_collective = models.CharField(_("collective or head"), max_length=200, blank=True)
    signer_title = models.CharField(_("signer's position"), max_length=200, blank=True)
    signer_name = models.CharField(_("signer's name"), max_length=200, blank=True)
    recipients = models.TextField(_("recipients"), blank=True)
    annex_title = models.CharField(_("annex heading"), max_length=500, blank=True)
    # Issued document
    pdf = models.FileField(upload_to=decision_pdf_path, max_length=300, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    item_count = models.PositiveIntegerField(_("recognised"), default=0)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuing_unit", "number_year", "number"],
                condition=Q(number__isnull=False),
                name="decision_number_unique_per_issuer_year",
            ),
            models.CheckConstraint(
                name="decision_issued_has_number",
                condition=Q(status="draft") | Q(number__isnull=False, issued_on__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["issuing_unit", "status"], name="decision_issuer_idx")]

    def __str__(self) -> str:
        return self.reference or f"{self.summary} ({self.get_status_display()})"

    @property
    def reference(self) -> str:
        """The number and symbol, e.g. "05/QĐ-UBND": numbers below 10 get a leading zero
        (RULES.md §6.2 ô 3)."""
        if self.number is None:
            return ""
        return f"{self.number:02d}/{self.symbol}"


class DecisionCounter(models.Model):
    """The last number issued by one issuer in one year (gap-free numbering).

    Issuing locks this row, takes ``last_number + 1`` and commits it together
    with the decision, so a failed issue rolls the counter back with it.
    """

    issuing_unit = models.ForeignKey(
        "units.AdministrativeUnit", on_delete=models.CASCADE, related_name="+"
    )
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuing_unit", "year"], name="counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.issuing_unit_id}/{self.year}: {self.last_number}"


class DecisionItem(models.Model):
    """One row of the annex. The display fields are frozen when the decision
    is issued, so the document never changes when a subject is edited later."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="items")
    assessment = models.ForeignKey(
        "recognition.Assessment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decision_items",
    )
    nomination = models.ForeignKey(
        "campaigns.Nomination",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decision_items",
    )
    position = models.PositiveIntegerField(default=0)
    subject_kind = models.CharField(max_length=16, blank=True)
    subject_code = models.CharField(max_length=64, blank=True)
    subject_name = models.CharField(max_length=300, blank=True)
    address = models.CharField(max_length=300, blank=True)
    unit_name = models.CharField(max_length=200, blank=True)
    result = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["decision", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "assessment"], name="decision_item_unique"),
            models.UniqueConstraint(
                fields=["decision", "nomination"], name="decision_item_unique_nomination"
            ),
            models.CheckConstraint(
                name="decision_item_one_subject",
                condition=Q(assessment__isnull=False, nomination__isnull=True)
                | Q(assessment__isnull=True, nomination__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.subject_name


def new_certificate_token() -> str:
    """256 bits of randomness: tokens cannot be guessed or enumerated."""
    return secrets.token_urlsafe(32)


class Certificate(models.Model):
    """Giấy công nhận for one household, clan or citizen of an issued decision."""

    item = models.OneToOneField(DecisionItem, on_delete=models.CASCADE, related_name="certificate")
    token = models.CharField(max_length=64, unique=True, default=new_certificate_token)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")

    def __str__(self) -> str:
        return self.item.subject_name
