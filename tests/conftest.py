"""The fixed cast (STYLE.md §8): a city admin, a district reviewer, a ward
official, a read-only steering viewer, and an official of another tenant, on a
small tree per tenant."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.models import User
from tests.factories import PASSWORD, grant, make_tenant, make_unit, make_user
from units.models import AdministrativeUnit, Tenant
from units.roles import Role


@dataclass
class Cast:
    tenant: Tenant
    city: AdministrativeUnit
    district: AdministrativeUnit
    other_district: AdministrativeUnit
    ward: AdministrativeUnit
    other_ward: AdministrativeUnit
    neighbourhood: AdministrativeUnit
    other_neighbourhood: AdministrativeUnit
    admin: User
    reviewer: User
    ward_official: User
    viewer: User
    other_tenant: Tenant
    other_city: AdministrativeUnit
    other_tenant_ward: AdministrativeUnit
    other_tenant_official: User

    @property
    def users(self) -> dict[str, User]:
        return {
            "admin": self.admin,
            "reviewer": self.reviewer,
            "ward_official": self.ward_official,
            "viewer": self.viewer,
            "other_tenant_official": self.other_tenant_official,
        }


@pytest.fixture
def cast(db: None) -> Cast:
    tenant = make_tenant("TP. Thử Nghiệm", slug="thu-nghiem", code="79")
    city = make_unit(tenant, None, "thanh_pho_tw", "Thành phố Thử Nghiệm", "79")
    district = make_unit(tenant, city, "quan", "Quận Một", "771")
    other_district = make_unit(tenant, city, "quan", "Quận Hai", "772")
    ward = make_unit(tenant, district, "phuong", "Phường Bến Nghé", "27184")
    other_ward = make_unit(tenant, other_district, "phuong", "Phường Tân Định", "27247")
    neighbourhood = make_unit(tenant, ward, "khu_pho", "Khu phố 1", "27184-KP01")
    other_neighbourhood = make_unit(tenant, other_ward, "khu_pho", "Khu phố 1", "27247-KP01")

    other_tenant = make_tenant("TP. Khác", slug="khac", code="31")
    other_city = make_unit(other_tenant, None, "thanh_pho_tw", "Thành phố Khác", "31")
    other_tenant_district = make_unit(other_tenant, other_city, "quan", "Quận Hồng Bàng", "303")
    other_tenant_ward = make_unit(
        other_tenant, other_tenant_district, "phuong", "Phường Hạ Lý", "11308"
    )

    return Cast(
        tenant=tenant,
        city=city,
        district=district,
        other_district=other_district,
        ward=ward,
        other_ward=other_ward,
        neighbourhood=neighbourhood,
        other_neighbourhood=other_neighbourhood,
        admin=grant(make_user(tenant, "admin"), city, Role.TENANT_ADMIN),
        reviewer=grant(make_user(tenant, "reviewer"), district, Role.REVIEWER),
        ward_official=grant(make_user(tenant, "ward"), ward, Role.WARD_OFFICIAL),
        viewer=grant(make_user(tenant, "viewer"), city, Role.STEERING_VIEWER),
        other_tenant=other_tenant,
        other_city=other_city,
        other_tenant_ward=other_tenant_ward,
        other_tenant_official=grant(
            make_user(other_tenant, "other"), other_tenant_ward, Role.WARD_OFFICIAL
        ),
    )


def client_for(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def login():
    return client_for
