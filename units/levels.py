"""Administrative levels and kinds of Vietnamese units.

Before 1 July 2025: province -> district -> commune (RULES.md §7.1); from then
on the district tier is gone: province -> commune (RULES.md §7.2). Below the
commune sit self-governing neighbourhoods (khu phố, ấp, thôn, tổ dân phố),
which have no GSO code and are tenant-maintained (RULES.md §7.2).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("Province level")
    DISTRICT = "district", _("District level")
    COMMUNE = "commune", _("Commune level")
    NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood")


#: Canonical order, top first. A tenant uses a subsequence of it.
LEVEL_ORDER: list[str] = [Level.PROVINCE, Level.DISTRICT, Level.COMMUNE, Level.NEIGHBOURHOOD]


def level_rank(level: str) -> int:
    return LEVEL_ORDER.index(level)


class Kind(models.TextChoices):
    # Cấp tỉnh
    CENTRAL_CITY = "thanh_pho_tw", _("Centrally-run city")
    PROVINCE = "tinh", _("Province")
    # Cấp huyện (until 30/06/2025)
    URBAN_DISTRICT = "quan", _("Urban district (quận)")
    RURAL_DISTRICT = "huyen", _("Rural district (huyện)")
    TOWN = "thi_xa", _("Town (thị xã)")
    PROVINCIAL_CITY = "thanh_pho", _("City (thành phố thuộc tỉnh)")
    # Cấp xã
    WARD = "phuong", _("Ward (phường)")
    COMMUNE = "xa", _("Commune (xã)")
    TOWNSHIP = "thi_tran", _("Township (thị trấn)")
    SPECIAL_ZONE = "dac_khu", _("Special zone (đặc khu)")
    # Below the commune
    QUARTER = "khu_pho", _("Quarter (khu phố)")
    HAMLET = "ap", _("Hamlet (ấp)")
    VILLAGE = "thon", _("Village (thôn)")
    RESIDENTIAL_GROUP = "to_dan_pho", _("Residential group (tổ dân phố)")


#: Which kinds belong to which level.
KIND_LEVEL: dict[str, str] = {
    Kind.CENTRAL_CITY: Level.PROVINCE,
    Kind.PROVINCE: Level.PROVINCE,
    Kind.URBAN_DISTRICT: Level.DISTRICT,
    Kind.RURAL_DISTRICT: Level.DISTRICT,
    Kind.TOWN: Level.DISTRICT,
    Kind.PROVINCIAL_CITY: Level.DISTRICT,
    Kind.WARD: Level.COMMUNE,
    Kind.COMMUNE: Level.COMMUNE,
    Kind.TOWNSHIP: Level.COMMUNE,
    Kind.SPECIAL_ZONE: Level.COMMUNE,
    Kind.QUARTER: Level.NEIGHBOURHOOD,
    Kind.HAMLET: Level.NEIGHBOURHOOD,
    Kind.VILLAGE: Level.NEIGHBOURHOOD,
    Kind.RESIDENTIAL_GROUP: Level.NEIGHBOURHOOD,
}

#: Vietnamese prefix used when a unit's display name is built from kind + name.
KIND_PREFIX: dict[str, str] = {
    Kind.CENTRAL_CITY: "Thành phố",
    Kind.PROVINCE: "Tỉnh",
    Kind.URBAN_DISTRICT: "Quận",
    Kind.RURAL_DISTRICT: "Huyện",
    Kind.TOWN: "Thị xã",
    Kind.PROVINCIAL_CITY: "Thành phố",
    Kind.WARD: "Phường",
    Kind.COMMUNE: "Xã",
    Kind.TOWNSHIP: "Thị trấn",
    Kind.SPECIAL_ZONE: "Đặc khu",
    Kind.QUARTER: "Khu phố",
    Kind.HAMLET: "Ấp",
    Kind.VILLAGE: "Thôn",
    Kind.RESIDENTIAL_GROUP: "Tổ dân phố",
}
