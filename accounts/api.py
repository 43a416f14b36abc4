"""API: who am I."""

import uuid

from ninja import Router, Schema

from core.http import AuthedRequest
from units.selectors import user_grants

router = Router(tags=["accounts"])


class RoleOut(Schema):
    role: str
    unit_id: uuid.UUID
    unit_name: str


class MeOut(Schema):
    public_id: uuid.UUID
    username: str
    full_name: str
    email: str
    tenant: str | None
    roles: list[RoleOut]


@router.get("/me", response=MeOut, summary="The signed-in user and their roles")
def me(request: AuthedRequest) -> MeOut:
    from units.models import AdministrativeUnit

    user = request.user
    grants = user_grants(user)
    units = AdministrativeUnit.objects.in_bulk([g.unit_id for g in grants])
    return MeOut(
        public_id=user.public_id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        tenant=user.tenant.name if user.tenant else None,
        roles=[
            RoleOut(
                role=g.role, unit_id=units[g.unit_id].public_id, unit_name=units[g.unit_id].name
            )
            for g in grants
        ],
    )
