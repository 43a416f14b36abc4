"""Import kind of user accounts with their role assignments.

One row per role assignment: the user (login, name, e-mail, position, phone)
holds a role over a unit's subtree. The rules are those of
:func:`accounts.services.user_invite` and :func:`units.services.role_assign`:
logins and e-mail addresses are unique (case-insensitively, across tenants); a
new account has no usable password and receives the invitation e-mail with a
link to choose one, sent after the import commits; nobody grants a role ranked
above their own, and only administrators of the unit grant roles there. An
account's details change only when the importer administers every unit where
the account holds a role (``accounts.services._may_manage``). An import never
withdraws a role: rows missing from the file change nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.services import password_set_url
from spreadsheets import cleaners
from spreadsheets.cleaners import CellError
from spreadsheets.kinds.base import (
    CellWidget,
    ChoiceWidget,
    Column,
    ImportKind,
    RowChange,
    UnitCodeWidget,
    UnitRef,
)
from spreadsheets.kinds.subjects import KeyPart, Refusal, refusal_errors
from units.models import AdministrativeUnit, RoleAssignment
from units.roles import ADMIN_ROLES, ROLE_RANK, Role
from units.selectors import assignments_for_user, user_grants

#: The account columns (the same on every row of one user).
ACCOUNT_FIELDS = ("full_name", "email", "position", "phone")


class UsernameWidget(CellWidget):
    """A login as :func:`accounts.services.user_invite` stores it: NFC, lower case."""

    validator = UnicodeUsernameValidator()

    def __init__(self) -> None:
        super().__init__(cleaners.text, required=True, max_length=150)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        login = cleaners.text(value, **self.options).lower()
        try:
            self.validator(login)
        except ValidationError as exc:
            raise CellError(" ".join(exc.messages)) from exc
        return login


class EmailWidget(CellWidget):
    def __init__(self) -> None:
        super().__init__(cleaners.text, required=True, max_length=254)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        address = cleaners.text(value, **self.options).lower()
        try:
            validate_email(address)
        except ValidationError as exc:
            raise CellError(_("%(value)s is not an e-mail address.") % {"value": address}) from exc
        return address


class PhoneWidget(CellWidget):
    """A phone number; a number cell lost its leading 0 in Excel and gets it back."""

    def __init__(self) -> None:
        super().__init__(cleaners.text, max_length=32)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = cleaners.text(value, **self.options)
        if isinstance(value, int | float) and not isinstance(value, bool) and len(text) == 9:
            return "0" + text
        return text


class UserKind(ImportKind):
    """Tài khoản người dùng: one row per (login, unit, role)."""

    key = "users"
    label = gettext_lazy("User accounts")
    natural_key = ("username", "unit", "role")
    roles = ADMIN_ROLES
    instructions = (
        gettext_lazy(
            "One row per role of a user: a user with two roles has two rows, with the same login, full name, e-mail, position and phone on each."
        ),
        gettext_lazy(
            "A row whose login, unit and role already exist changes only the user's details. A new login creates an account without a password: after the import, the user receives an e-mail with a link to choose one."
        ),
        gettext_lazy(
            "Logins and e-mail addresses are unique in the whole system. The unit must be inside your unit, and you cannot grant a role ranked above your own. An import never withdraws a role: remove roles on the user's page."
        ),
        gettext_lazy(
            "Do not change the header row. Keep one role per row, no merged cells, no formulas. Only administrators may import users."
        ),
    )

    username = Column(
        attribute="username",
        header="Tên đăng nhập",
        header_en="Username",
        widget=UsernameWidget(),
        required=True,
        help=gettext_lazy("Letters, digits and . @ + - _ only, e.g. can.bo.p1."),
        width=20,
    )
    full_name = Column(
        attribute="full_name",
        header="Họ và tên",
        header_en="Full name",
        widget=CellWidget(cleaners.text, required=True, max_length=200),
        required=True,
        help=gettext_lazy("Full name with diacritics."),
        width=26,
    )
    email = Column(
        attribute="email",
        header="Email",
        header_en="E-mail",
        widget=EmailWidget(),
        required=True,
        help=gettext_lazy("The invitation to choose a password is sent to this address."),
        width=28,
    )
    position = Column(
        attribute="position",
        header="Chức vụ",
        header_en="Position",
        widget=CellWidget(cleaners.text, max_length=200),
        help=gettext_lazy("E.g. Công chức Văn hóa - Xã hội (optional)."),
        width=24,
    )
    phone = Column(
        attribute="phone",
        header="Số điện thoại",
        header_en="Phone",
        widget=PhoneWidget(),
        help=gettext_lazy("Optional; format the column as Text to keep the leading 0."),
        width=16,
        number_format="@",
    )
    unit = Column(
        attribute="unit",
        header="Mã đơn vị",
        header_en="Unit code",
        widget=UnitCodeWidget(required=True, max_length=32),
        required=True,
        help=gettext_lazy("Official code of the unit over which the role is held."),
        width=16,
    )
    role = Column(
        attribute="role",
        header="Vai trò",
        header_en="Role",
        widget=ChoiceWidget(Role.choices, required=True),
        required=True,
        help=gettext_lazy("One of the list; the role covers the unit and every unit under it."),
        choices=[label for _code, label in Role.choices],
        width=24,
    )

    class Meta:
        model = RoleAssignment
        fields = ("username", "full_name", "email", "position", "phone", "unit", "role")
        import_id_fields = ("username", "unit", "role")

    def __init__(self, ctx: Any = None, **kwargs: Any) -> None:
        super().__init__(ctx, **kwargs)
        #: Accounts by login (stored ones, then those this import creates), and the login
        #: owning each stored e-mail address.
        self._users: dict[str, User] = {}
        self._email_owner: dict[str, str] = {}
        #: Role assignments of those accounts: user pk -> [(unit pk, unit path, role)].
        self._assignments: dict[int, list[tuple[int, str, str]]] = {}
        #: The cleaned rows of the current batch by key (existing() needs the e-mail).
        self._rows: dict[tuple[Any, ...], dict[str, Any]] = {}

    # -- the importer's rights, from their grants (no query per row)
    def _rank_at(self, path: str) -> int:
        grants = user_grants(self.context.actor)
        return max((ROLE_RANK[g.role] for g in grants if path.startswith(g.path)), default=0)

    def _admin_at(self, path: str) -> bool:
        grants = user_grants(self.context.actor)
        return any(g.role in ADMIN_ROLES and path.startswith(g.path) for g in grants)

    def _may_manage(self, user: User) -> bool:
        """accounts.services._may_manage, on the assignments loaded for the batch."""
        held = self._assignments.get(user.pk, [])
        if not held:
            return any(g.role in ADMIN_ROLES for g in user_grants(self.context.actor))
        return all(
            self._admin_at(path) and ROLE_RANK[role] <= self._rank_at(path)
            for _unit, path, role in held
        )

    # -- the engine's hooks
    def key_of(self, values: dict[str, Any]) -> tuple[Any, ...]:
        unit: UnitRef = values["unit"]
        key = (values["username"], KeyPart(unit.pk, unit.code), values["role"])
        self._rows[key] = values
        return key

    def check_row(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        unit: UnitRef = values["unit"]
        role: str = values["role"]
        if not self._admin_at(unit.path) or ROLE_RANK[role] > self._rank_at(unit.path):
            return [("role", _("You cannot grant this role at this unit."))]
        login: str = values["username"]
        account = tuple(values.get(name) or "" for name in ACCOUNT_FIELDS)
        accounts: dict[str, tuple[str, ...]] = self.context.cache.setdefault("users.accounts", {})
        first = accounts.setdefault(login, account)
        for name, mine, theirs in zip(ACCOUNT_FIELDS, account, first, strict=True):
            if mine != theirs:
                return [
                    (
                        name,
                        _(
                            "An earlier row of this file gives user %(username)s “%(value)s” in this column: write the same full name, e-mail, position and phone on every row of a user."
                        )
                        % {"username": login, "value": theirs},
                    )
                ]
        emails: dict[str, str] = self.context.cache.setdefault("users.emails", {})
        owner = emails.setdefault(values["email"], login)
        if owner != login:
            return [
                (
                    "email",
                    _(
                        "The e-mail address %(email)s is also given to user %(username)s in this file."
                    )
                    % {"email": values["email"], "username": owner},
                )
            ]
        return []

    def existing(self, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
        rows, self._rows = self._rows, {}
        logins = {key[0] for key in keys} - set(self._users)
        emails = {rows[key]["email"] for key in keys if key in rows}
        found = User.objects.annotate(login=Lower("username"), mail=Lower("email")).filter(
            Q(login__in=logins) | Q(mail__in=emails)
        )
        for user in found:
            self._users.setdefault(user.username.lower(), user)
            if user.email:
                self._email_owner[user.email.lower()] = user.username.lower()
        batch_users = {self._users[key[0]].pk for key in keys if key[0] in self._users}
        held = (
            RoleAssignment.objects.filter(user_id__in=batch_users)
            .select_related("user", "unit")
            .order_by("pk")
        )
        stored: dict[tuple[Any, ...], RoleAssignment] = {}
        by_user: dict[int, list[tuple[int, str, str]]] = {pk: [] for pk in batch_users}
        for assignment in held:
            by_user[assignment.user_id].append(
                (assignment.unit_id, assignment.unit.path, assignment.role)
            )
            login = assignment.user.username.lower()
            stored[(login, KeyPart(assignment.unit_id), assignment.role)] = assignment
        self._assignments.update(by_user)
        result: dict[tuple[Any, ...], Any] = {}
        for key in keys:
            problem = self._problem(key, rows.get(key, {}))
            if problem is not None:
                result[key] = problem
            elif key in stored:
                result[key] = stored[key]
        return result

    def _problem(self, key: tuple[Any, ...], values: dict[str, Any]) -> Refusal | None:
        login = key[0]
        user = self._users.get(login)
        if user is not None and user.tenant_id != self.context.tenant.pk:
            return Refusal(
                "username",
                _(
                    "The login %(username)s is already used by an account outside %(tenant)s: choose another one."
                )
                % {"username": login, "tenant": self.context.tenant.name},
            )
        email = values.get("email", "")
        owner = self._email_owner.get(email)
        if owner is not None and owner != login:
            return Refusal(
                "email",
                _("The e-mail address %(email)s is already used by another account.")
                % {"email": email},
            )
        if user is not None and self._account_changes(user, values) and not self._may_manage(user):
            return Refusal(
                "username",
                _("You cannot change this account: the user holds roles outside your area."),
            )
        return None

    @staticmethod
    def _account_changes(user: User, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        changes = {}
        for name in ACCOUNT_FIELDS:
            if name in values:
                stored = getattr(user, name) or ""
                if name == "email":
                    stored = stored.lower()
                if stored != (values[name] or ""):
                    changes[name] = (getattr(user, name), values[name] or "")
        return changes

    def check_existing(self, obj: Model, values: dict[str, Any]) -> list[tuple[str, str]]:
        return refusal_errors(obj)

    def compare(self, obj: Model, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        assignment: RoleAssignment = obj  # type: ignore[assignment]
        return self._account_changes(assignment.user, values)

    def write(self, new: list[RowChange], changed: list[RowChange]) -> None:
        tenant_id = self.context.tenant.pk
        created: dict[str, User] = {}
        for change in new:
            v = change.values
            login = v["username"]
            if login in self._users or login in created:
                continue
            user = User(
                username=login,
                email=v["email"],
                full_name=v["full_name"],
                position=v.get("position") or "",
                phone=v.get("phone") or "",
                tenant_id=tenant_id,
            )
            user.set_unusable_password()  # the invitation's link sets the first password
            created[login] = user
        # bulk_create (not COPY): the role assignments need the new primary keys.
        User.objects.bulk_create(list(created.values()), batch_size=1000)
        self._users.update(created)
        self._email_owner.update((user.email, login) for login, user in created.items())
        updated: dict[int, User] = {}
        for change in [*new, *changed]:
            v = change.values
            user = self._users[v["username"]]
            if user.username in created:
                continue
            changes = self._account_changes(user, v)
            if "email" in changes:
                self._email_owner.pop(user.email.lower(), None)
                self._email_owner[v["email"]] = v["username"]
            for name, (_stored, value) in changes.items():
                setattr(user, name, value)
            if changes:
                updated[user.pk] = user
        if updated:
            User.objects.bulk_update(list(updated.values()), list(ACCOUNT_FIELDS), batch_size=1000)
        actor = self.context.actor
        RoleAssignment.objects.bulk_create(
            [
                RoleAssignment(
                    tenant_id=tenant_id,
                    user=self._users[change.values["username"]],
                    unit_id=change.values["unit"].pk,
                    role=change.values["role"],
                    granted_by=actor if getattr(actor, "pk", None) else None,
                )
                for change in new
            ],
            batch_size=2000,
        )
        for change in new:
            user = self._users[change.values["username"]]
            unit: UnitRef = change.values["unit"]
            self._assignments.setdefault(user.pk, []).append(
                (unit.pk, unit.path, change.values["role"])
            )
        self._invite(list(created.values()))

    @staticmethod
    def _invite(users: list[User]) -> None:
        """The invitation e-mails, as user_invite sends them: after the commit, one task each."""
        from accounts.tasks import send_invitation_email

        base_url = settings.SITE_URL
        invitations = [
            (u.pk, password_set_url(user=u, base_url=base_url)) for u in users if u.email
        ]
        if not invitations:
            return

        def send() -> None:
            for pk, link in invitations:
                send_invitation_email.delay(pk, link)

        transaction.on_commit(send)

    # -- exports
    def export_queryset(self, user: Any, unit: AdministrativeUnit) -> QuerySet[Any]:
        """Every role assignment inside the unit's subtree that the user administers."""
        return (
            assignments_for_user(user)
            .filter(unit__path__startswith=unit.path)
            .order_by("user__username", "unit__code", "role")
        )

    def export_get(self, obj: Model, column: Column) -> Any:
        assignment: RoleAssignment = obj  # type: ignore[assignment]
        name = column.attribute
        if name == "unit":
            return assignment.unit.code
        if name == "role":
            return assignment.role
        return getattr(assignment.user, name or "")
