"""The five titles (danh hiệu) of the learning-society programme and their subjects.

RULES.md §0: Gia đình học tập, Dòng họ học tập and Cộng đồng học tập at
neighbourhood level, and Đơn vị học tập of commune-managed units, follow the
Hội Khuyến học criteria (QĐ 448/QĐ-KHVN); Cộng đồng học tập at commune,
district and province level follows TT 25/2023; Đơn vị học tập at district and
province level follows TT 24/2023; Công dân học tập follows QĐ 244/QĐ-KHVN.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Title(models.TextChoices):
    FAMILY = "gia_dinh", _("Learning family")
    CLAN = "dong_ho", _("Learning clan")
    COMMUNITY = "cong_dong", _("Learning community")
    ORGANISATION = "don_vi", _("Learning unit")
    CITIZEN = "cong_dan", _("Learning citizen")


class SubjectKind(models.TextChoices):
    HOUSEHOLD = "household", _("Household")
    CLAN = "clan", _("Clan")
    UNIT = "unit", _("Administrative unit")
    ORGANISATION = "organisation", _("Organisation")
    CITIZEN = "citizen", _("Citizen")


#: Which kind of subject each title is awarded to.
TITLE_SUBJECT: dict[str, str] = {
    Title.FAMILY: SubjectKind.HOUSEHOLD,
    Title.CLAN: SubjectKind.CLAN,
    Title.COMMUNITY: SubjectKind.UNIT,
    Title.ORGANISATION: SubjectKind.ORGANISATION,
    Title.CITIZEN: SubjectKind.CITIZEN,
}

#: The foreign-key field on Registration that holds each kind of subject.
SUBJECT_FIELD: dict[str, str] = {
    SubjectKind.HOUSEHOLD: "household",
    SubjectKind.CLAN: "clan",
    SubjectKind.UNIT: "subject_unit",
    SubjectKind.ORGANISATION: "organisation",
    SubjectKind.CITIZEN: "citizen",
}
