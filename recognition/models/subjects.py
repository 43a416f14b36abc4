"""The subjects of recognition: households, clans, organisations and citizens.

Units themselves are the subjects of the community titles. Personal data is
visible only inside the scope that owns it (every row carries its unit).

Collect only what the titles need (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15,
issue 10 §2): the personal fields kept, and why.

* Household: ``code`` identifies the household in the neighbourhood's book and
  in imports; ``head_name`` is printed in the decision's annex (the title is
  awarded to "hộ ông/bà …"); ``address`` is optional (the annex prints it when
  known); ``member_count`` is the base the family criteria count members against.
  Nothing else about the members is collected.
* Citizen: ``full_name`` and ``birth_year`` are printed in the annex (the year
  tells namesakes apart; no full birth date is kept); ``labour_group`` chooses the
  evaluation form of QĐ 244/QĐ-KHVN; ``national_id`` is optional — no title
  needs it, it only tells namesakes apart in imports — and is encrypted at rest
  with a blind index for exact lookup (:mod:`recognition.personal_data`).
  No sex, ethnicity, religion, phone or full address is collected (the national
  congdanhoctap.vn account asks for some of them; this app does not need them).
* Clans and organisations hold a representative's name and an organisation's
  address, which are not about a private person's life and stay as they are.

A household or citizen may be erased on request (``erased_at``): its personal
fields are anonymised and it can no longer be edited or registered.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recognition.personal_data.crypto import mask
from recognition.personal_data.fields import EncryptedIdField


class SubjectBase(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("units.Tenant", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        "units.AdministrativeUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("unit"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    #: Accent-free, lower-case code and names (core.text.fold) for search;
    #: written by the subject services.
    search_text = models.CharField(max_length=600, default="", blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Household(SubjectBase):
    """A household (hộ gia đình), registered in its neighbourhood."""

    code = models.CharField(_("household code"), max_length=64)
    head_name = models.CharField(_("head of household"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    member_count = models.PositiveSmallIntegerField(_("members"), default=1)
    #: When the head's personal data was erased on request (never twice).
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="household_unique_code")
        ]
        indexes = [models.Index(fields=["tenant", "unit"], name="household_unit_idx")]

    def __str__(self) -> str:
        return f"{self.code} — {self.head_name}"


class Clan(SubjectBase):
    """A clan (dòng họ); ``unit`` is the commune that manages it."""

    name = models.CharField(_("clan name"), max_length=200)
    representative = models.CharField(_("representative"), max_length=200)
    member_count = models.PositiveIntegerField(_("members"), null=True, blank=True)
    home_units = models.ManyToManyField(
        "units.AdministrativeUnit", related_name="+", blank=True, verbose_name=_("home units")
    )

    class Meta:
        verbose_name = _("clan")
        verbose_name_plural = _("clans")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="clan_unique_name_in_unit")
        ]

    def __str__(self) -> str:
        return self.name


class Organisation(SubjectBase):
    """An agency, school or enterprise; ``unit`` is the unit that manages it."""

    class Kind(models.TextChoices):
        AGENCY = "agency", _("State agency")
        SCHOOL = "school", _("School")
        ENTERPRISE = "enterprise", _("Enterprise")
        MASS_ORGANISATION = "mass_org", _("Mass organisation")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=300)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    address = models.CharField(_("address"), max_length=300, blank=True)
    member_count = models.PositiveIntegerField(_("members"), null=True, blank=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="organisation_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class LabourGroup(models.TextChoices):
    """Target groups of QĐ 244/QĐ-KHVN as listed by Quảng Bình (RULES.md §4.4);
    the national portal speaks of 4 groups (UNCERTAIN), hence ``other``."""

    FARMERS = "farmers", _("Farmers and rural workers")
    WORKERS = "workers", _("Workers, craftspeople and freelance workers")
    OFFICIALS = "officials", _("Officials, public employees and employees")
    OTHER = "other", _("Other")


class Citizen(SubjectBase):
    full_name = models.CharField(_("full name"), max_length=200)
    #: Required on entry (the services check it); empty only once erased.
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True)
    labour_group = models.CharField(_("labour group"), max_length=16, choices=LabourGroup.choices)
    #: HMAC of the number (recognition.personal_data.crypto.blind_index), set with it.
    #: Declared before ``national_id`` so that a new instance's default does not
    #: overwrite the index the number just set.
    national_id_index = models.CharField(max_length=64, blank=True, default="", editable=False)
    #: Encrypted at rest; the Python value is the plain 12 digits (or empty).
    national_id = EncryptedIdField(
        _("citizen ID number"), blank=True, index_field="national_id_index"
    )
    #: When the citizen's personal data was erased on request (never twice).
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        ordering = ["full_name"]
        indexes = [models.Index(fields=["tenant", "unit"], name="citizen_unit_idx")]
        constraints = [
            # Uniqueness checks and imports look citizens up by ID number.
            models.UniqueConstraint(
                fields=["tenant", "national_id_index"],
                condition=~Q(national_id_index=""),
                name="citizen_unique_national_id",
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def national_id_masked(self) -> str:
        """Lists and exports show only the last 3 digits (e.g. ``*********123``)."""
        return mask(self.national_id)
